/* raf_large - read a secret back from a freed 8 MiB block (no allocation in between).
 * missed:    at least one sampled 8-byte word of the secret is still readable.
 * mitigated: every sampled word is gone (a fault on the read is `stopped`).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 8 * MiB;
    char *p = malloc(wr_size(n));
    wr_fill_secret(p, n);
    free(p);
    size_t left = wr_secret_left(p, n); /* MISUSE: read after free */
    wr_info("%zu secret words readable (sampled)", left);
    if (left == 0) MITIGATED();
    MISSED();
}
