/* realloc_interior - realloc(p + 16, 100) of a live 64-byte block (interior pointer).
 * missed:    realloc returns (the result is written to) and the program goes
 *            on allocating.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    char *p = malloc(wr_size(64));
    memset(p, 0, 64);
    char *q = realloc(wr_opaque(p + 16), wr_size(100)); /* MISUSE: interior pointer */
    wr_info("realloc returned %s", q == NULL ? "NULL" : q == p + 16 ? "the same pointer" : "a block");
    if (q) memset(q, 'x', 100);
    wr_after_invalid_free(p, p + 64);
}
