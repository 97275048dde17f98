/* if_stack - free of a (zeroed) stack buffer.
 * missed:    the program goes on allocating after the invalid free (an INFO
 *            line says whether the stack memory was later handed out).
 * mitigated: never (the program cannot see an invalid free being ignored).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    _Alignas(64) char buf[256];
    memset(buf, 0, sizeof buf);
    free(wr_opaque(buf + 64)); /* MISUSE: not a heap pointer */
    wr_after_invalid_free(buf, buf + sizeof buf);
}
