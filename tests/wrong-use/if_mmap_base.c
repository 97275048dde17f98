/* if_mmap_base - free of the start of a 64 KiB anonymous mmap (page-aligned, not from malloc).
 * missed:    the program goes on allocating after the invalid free.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 64 * KiB;
    char *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) UNSUPPORTED();
    free(wr_opaque(m)); /* MISUSE: memory from mmap */
    wr_after_invalid_free(m, m + n);
}
