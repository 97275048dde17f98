/* if_misaligned - free(p + 8) of a live 16-aligned 64-byte block (misaligned pointer).
 * missed:    the program goes on allocating after the invalid free.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    char *p = malloc(wr_size(64));
    memset(p, 0, 64);
    wr_info("p is %s16-aligned", ((uintptr_t)p & 15) ? "NOT " : "");
    free(wr_opaque(p + 8)); /* MISUSE: misaligned pointer */
    wr_after_invalid_free(p, p + 64);
}
