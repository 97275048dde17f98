/* realloc_stack - realloc of a (zeroed) stack buffer to 100 bytes.
 * missed:    realloc returns (the result is written to) and the program goes
 *            on allocating.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    _Alignas(64) char buf[256];
    memset(buf, 0, sizeof buf);
    char *q = realloc(wr_opaque(buf + 64), wr_size(100)); /* MISUSE: not a heap pointer */
    wr_info("realloc returned %s", q == NULL ? "NULL" : "a block");
    if (q) memset(q, 'x', 100);
    wr_after_invalid_free(buf, buf + sizeof buf);
}
