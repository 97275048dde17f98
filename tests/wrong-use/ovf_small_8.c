/* ovf_small_8 - write 8 bytes past a 32-byte block (p[32..39]), then free it and its neighbour.
 * missed:    nothing stops the program: frees and later allocations succeed.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    char *p = malloc(wr_size(32)), *next = malloc(32);
    memset(p, 0, 32);
    memset(next, 0, 32);
    wr_info("usable size %zu", malloc_usable_size(p));
    wr_poke(p + 32, 0x4141414141414141ull, 8); /* MISUSE: 8-byte overflow */
    free(p);
    free(next);
    wr_churn(32, 64, 3, NULL, NULL);
    MISSED();
}
