/* ovf_small_1 - write 1 byte past a 24-byte block (p[24]), then free it and its neighbour.
 * missed:    nothing stops the program: frees and later allocations succeed.
 * mitigated: never (the program cannot see an overflow being neutralised).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    char *p = malloc(wr_size(24)), *next = malloc(24);
    memset(p, 0, 24);
    memset(next, 0, 24);
    wr_info("usable size %zu", malloc_usable_size(p));
    wr_poke(p + 24, 0x41, 1); /* MISUSE: 1-byte overflow */
    free(p);
    free(next);
    wr_churn(24, 64, 3, NULL, NULL);
    MISSED();
}
