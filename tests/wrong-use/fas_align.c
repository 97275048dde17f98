/* fas_align - free_aligned_sized(p, 4096, 256) of a block from aligned_alloc(64, 256) (wrong alignment).
 * missed:    nothing stops the program.
 * mitigated: never.
 * unsupported: free_aligned_sized does not exist (glibc < 2.41).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    void (*fas)(void *, size_t, size_t) = (void (*)(void *, size_t, size_t))wr_dlsym("free_aligned_sized");
    if (!fas) UNSUPPORTED();
    char *p = aligned_alloc(wr_size(64), wr_size(256)), *after = aligned_alloc(64, 256);
    memset(p, 0, 256);
    fas(p, wr_size(4096), wr_size(256)); /* MISUSE: wrong alignment */
    wr_sink_ptr = after;
    wr_churn(256, 64, 2, NULL, NULL);
    for (int i = 0; i < 64; i++) wr_blocks[i] = aligned_alloc(64, 256);
    for (int i = 0; i < 64; i++) free(wr_blocks[i]);
    MISSED();
}
