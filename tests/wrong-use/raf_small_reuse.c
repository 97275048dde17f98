/* raf_small_reuse - read a secret from a freed 64-byte block after another malloc(64).
 * missed:    at least one 8-byte word of the secret is still readable through
 *            the stale pointer.
 * mitigated: every word of the secret is gone.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 64;
    char *p = malloc(wr_size(n)), *after = malloc(n);
    wr_fill_secret(p, n);
    free(p);
    char *q = malloc(wr_size(n));
    wr_info("the new block is %s", q == p ? "the freed one" : "another one");
    size_t left = wr_secret_left(p, n); /* MISUSE: read after free */
    wr_info("%zu of %zu secret words readable", left, n / 8);
    wr_sink_ptr = after;
    wr_sink_ptr = q;
    if (left == 0) MITIGATED();
    MISSED();
}
