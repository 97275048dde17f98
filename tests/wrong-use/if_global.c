/* if_global - free of a pointer into a (zero-initialised) global array.
 * missed:    the program goes on allocating after the invalid free.
 * mitigated: never.
 */
#include "wrong.h"

static _Alignas(64) char gbuf[256];

int main(void) {
    wr_begin();
    free(wr_opaque(gbuf + 64)); /* MISUSE: not a heap pointer */
    wr_after_invalid_free(gbuf, gbuf + sizeof gbuf);
}
