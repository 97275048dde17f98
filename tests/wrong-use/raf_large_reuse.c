/* raf_large_reuse - read a secret from a freed 8 MiB block after another malloc(8 MiB).
 * missed:    at least one sampled 8-byte word of the secret is still readable
 *            through the stale pointer.
 * mitigated: every sampled word is gone (a fault on the read is `stopped`).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 8 * MiB;
    char *p = malloc(wr_size(n));
    wr_fill_secret(p, n);
    free(p);
    char *q = malloc(wr_size(n));
    wr_info("the new block is %s", q == p ? "the freed one" : "another one");
    size_t left = wr_secret_left(p, n); /* MISUSE: read after free */
    wr_info("%zu secret words readable (sampled)", left);
    wr_sink_ptr = q;
    if (left == 0) MITIGATED();
    MISSED();
}
