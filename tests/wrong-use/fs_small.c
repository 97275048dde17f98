/* fs_small - free_sized(p, 4096) of a 32-byte block (wrong size); free_sized looked up with dlsym.
 * missed:    nothing stops the program (INFO: was the block handed out again
 *            as a 4096-byte block?).
 * mitigated: never.
 * unsupported: free_sized does not exist (glibc < 2.41).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    void (*free_sized_fn)(void *, size_t) = (void (*)(void *, size_t))wr_dlsym("free_sized");
    if (!free_sized_fn) UNSUPPORTED();
    char *p = malloc(wr_size(32)), *after = malloc(32);
    memset(p, 0, 32);
    free_sized_fn(p, wr_size(4096)); /* MISUSE: wrong size */
    wr_sink_ptr = after;
    size_t bad = wr_churn(4096, 16, 2, p, p + 1);
    wr_churn(32, 64, 2, NULL, NULL);
    wr_info("4096-byte blocks handed out at the 32-byte block: %zu", bad);
    MISSED();
}
