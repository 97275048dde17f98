/* mus_interior - malloc_usable_size(p + 16) of a live 64-byte block (interior pointer).
 * missed:    a non-zero size is returned.
 * mitigated: 0 is returned.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    char *p = malloc(wr_size(64));
    memset(p, 0, 64);
    size_t n = malloc_usable_size(wr_opaque(p + 16)); /* MISUSE: interior pointer */
    wr_info("malloc_usable_size returned %zu", n);
    if (n == 0) MITIGATED();
    MISSED();
}
