/* zero_read - malloc(0), then read 8 bytes from it.
 * missed:    the read succeeds (whatever the value).
 * mitigated: malloc(0) returned NULL (nothing to read from).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    char *p = malloc(wr_size(0));
    if (p == NULL) {
        wr_info("malloc(0) returned NULL");
        MITIGATED();
    }
    uint64_t v = wr_peek(p, 8); /* MISUSE: read from a zero-size block */
    wr_info("read 0x%016llx", (unsigned long long)v);
    free(p);
    MISSED();
}
