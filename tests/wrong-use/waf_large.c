/* waf_large - write 8 bytes at offset 0 of a freed 8 MiB block.
 * missed:    the write succeeds and malloc(8 MiB) keeps working for 8 rounds of
 *            2 blocks (live, then freed): 128 MiB of frees, enough to cycle a
 *            bounded quarantine.
 * mitigated: never (a fault on the write, e.g. unmapped memory, is `stopped`).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 8 * MiB;
    char *p = malloc(wr_size(n));
    memset(p, 0, 4096);
    free(p);
    wr_poke(p, 0x4141414141414141ull, 8); /* MISUSE: write after free */
    wr_churn(n, 2, 8, NULL, NULL);
    MISSED();
}
