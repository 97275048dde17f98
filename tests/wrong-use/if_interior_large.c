/* if_interior_large - free(p + 1 MiB) of a live 8 MiB block (interior pointer of a large block).
 * missed:    the program goes on allocating after the invalid free.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 8 * MiB;
    char *p = malloc(wr_size(n));
    memset(p, 0, 4096);
    free(wr_opaque(p + 1 * MiB)); /* MISUSE: interior pointer */
    wr_after_invalid_free(p, p + n);
}
