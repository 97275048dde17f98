/* if_interior_small1 - free(p + 1) of a live 64-byte block (interior, odd address).
 * missed:    the program goes on allocating after the invalid free.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    char *p = malloc(wr_size(64));
    memset(p, 0, 64);
    free(wr_opaque(p + 1)); /* MISUSE: interior pointer */
    wr_after_invalid_free(p, p + 64);
}
