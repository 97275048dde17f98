/* mus_stack - malloc_usable_size of a (zeroed) stack buffer.
 * missed:    a non-zero size is returned (a size the caller may trust).
 * mitigated: 0 is returned.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    _Alignas(64) char buf[256];
    memset(buf, 0, sizeof buf);
    size_t n = malloc_usable_size(wr_opaque(buf + 64)); /* MISUSE: not a heap pointer */
    wr_info("malloc_usable_size returned %zu", n);
    if (n == 0) MITIGATED();
    MISSED();
}
