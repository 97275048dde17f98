/* waf_small_off0 - write 8 bytes at offset 0 of a freed 64-byte block (where free lists keep their link).
 * Four other 64-byte blocks are freed first, so the block's link is not NULL.
 * missed:    malloc(64) keeps working for 50 rounds of 200 allocations (live,
 *            then freed): 10000 frees, enough to cycle a bounded quarantine.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    void *others[4];
    for (int i = 0; i < 4; i++) others[i] = malloc(64);
    char *p = malloc(wr_size(64)), *after = malloc(64);
    memset(p, 0, 64);
    for (int i = 0; i < 4; i++) free(others[i]);
    free(p);
    wr_poke(p, 0x4141414141414141ull, 8); /* MISUSE: write after free */
    wr_sink_ptr = after;
    wr_churn(64, 200, 50, NULL, NULL);
    MISSED();
}
