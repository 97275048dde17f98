/* raf_small - read a secret back from a freed 64-byte block (no allocation in between).
 * missed:    at least one 8-byte word of the secret is still readable.
 * mitigated: every word of the secret is gone.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 64;
    char *p = malloc(wr_size(n)), *after = malloc(n);
    wr_fill_secret(p, n);
    free(p);
    size_t left = wr_secret_left(p, n); /* MISUSE: read after free */
    wr_info("%zu of %zu secret words readable", left, n / 8);
    wr_sink_ptr = after;
    if (left == 0) MITIGATED();
    MISSED();
}
