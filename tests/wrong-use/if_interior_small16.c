/* if_interior_small16 - free(p + 16) of a live 64-byte block (interior, 16-aligned).
 * missed:    the program goes on allocating after the invalid free.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    char *p = malloc(wr_size(64));
    memset(p, 0, 64);
    free(wr_opaque(p + 16)); /* MISUSE: interior pointer */
    wr_after_invalid_free(p, p + 64);
}
