/* ovf_large_8 - write 8 bytes past an (8 MiB + 100)-byte block, then free it.
 * missed:    nothing stops the program: the free and later allocations succeed.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 8 * MiB + 100;
    char *p = malloc(wr_size(n));
    memset(p, 0, 4096);
    wr_info("usable size %zu", malloc_usable_size(p));
    wr_poke(p + n, 0x4141414141414141ull, 8); /* MISUSE: 8-byte overflow */
    free(p);
    wr_churn(n, 2, 2, NULL, NULL);
    MISSED();
}
