// (no public declarations yet; hakmem.h arrives with the site API)
