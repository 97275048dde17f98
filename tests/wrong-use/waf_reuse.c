/* waf_reuse - write 8 bytes at offset 16 of a freed 64-byte block, then malloc(64) again and look for the value.
 * missed:    a later malloc(64) (up to 1000, kept live) returns a block whose
 *            bytes 16..23 hold the value written after free: the stale write
 *            reached a live object.
 * mitigated: no new block shows the value (wiped on reuse, or not reused).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    const uint64_t v = 0x4141414141414141ull;
    char *p = malloc(wr_size(64)), *after = malloc(64);
    memset(p, 0, 64);
    free(p);
    wr_poke(p + 16, v, 8); /* MISUSE: write after free */
    wr_sink_ptr = after;
    for (size_t i = 0; i < 1000; i++) {
        char *q = malloc(wr_size(64));
        wr_blocks[i] = q;
        if (q && wr_peek(q + 16, 8) == v) {
            wr_info("allocation %zu (%s) shows the stale write", i, q == p ? "the freed block" : "another block");
            MISSED();
        }
        if (q == p) wr_info("allocation %zu returned the freed block, value gone", i);
    }
    MITIGATED();
}
