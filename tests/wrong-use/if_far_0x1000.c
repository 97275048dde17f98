/* if_far_0x1000 - free((void *)0x1000), a made-up address far from any mapping.
 * missed:    the program goes on allocating after the invalid free.
 * mitigated: never.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    free(wr_opaque((void *)(uintptr_t)0x1000)); /* MISUSE: made-up address */
    wr_after_invalid_free((void *)0x1000, (void *)0x2000);
}
