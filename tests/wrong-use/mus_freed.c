/* mus_freed - malloc_usable_size of a freed 64-byte block.
 * missed:    a non-zero size is returned.
 * mitigated: 0 is returned.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    char *p = malloc(wr_size(64)), *after = malloc(64);
    memset(p, 0, 64);
    free(p);
    size_t n = malloc_usable_size(wr_opaque(p)); /* MISUSE: freed pointer */
    wr_info("malloc_usable_size returned %zu", n);
    wr_sink_ptr = after;
    if (n == 0) MITIGATED();
    MISSED();
}
