/* if_far_mmap - free of a pointer into the middle of a fresh (zeroed) 1 MiB mmap.
 * missed:    the program goes on allocating after the invalid free.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 1 * MiB;
    char *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) UNSUPPORTED();
    free(wr_opaque(m + 0x40010)); /* MISUSE: pointer into memory malloc never saw */
    wr_after_invalid_free(m, m + n);
}
