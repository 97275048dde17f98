/* zero_write - malloc(0), then write 8 bytes into it; free it and its neighbour.
 * missed:    nothing stops the program: frees and later allocations succeed.
 * mitigated: malloc(0) returned NULL (nothing to write to).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    char *p = malloc(wr_size(0)), *next = malloc(wr_size(0));
    if (p == NULL) {
        wr_info("malloc(0) returned NULL");
        MITIGATED();
    }
    wr_info("usable size %zu", malloc_usable_size(p));
    wr_poke(p, 0x4141414141414141ull, 8); /* MISUSE: write into a zero-size block */
    free(p);
    free(next);
    for (int i = 0; i < 200; i++) wr_blocks[i] = malloc(wr_size(0));
    for (int i = 0; i < 200; i++) free(wr_blocks[i]);
    wr_churn(16, 64, 2, NULL, NULL);
    MISSED();
}
