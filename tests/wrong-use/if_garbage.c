/* if_garbage - free of a garbage pointer (0x414141414140, as an uninitialised pointer sprayed with 'A's).
 * The value is a canonical, 16-aligned user-space address that is not mapped.
 * missed:    the program goes on allocating after the invalid free.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    void *g = wr_opaque((void *)(uintptr_t)0x414141414140ull);
    free(g); /* MISUSE: garbage pointer */
    wr_after_invalid_free(g, (char *)g + 4096);
}
