/* fs_large - free_sized(p, 64) of an 8 MiB block (wrong size); free_sized looked up with dlsym.
 * missed:    nothing stops the program (INFO: was the block handed out again
 *            as a 64-byte block?).
 * mitigated: never.
 * unsupported: free_sized does not exist (glibc < 2.41).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    void (*free_sized_fn)(void *, size_t) = (void (*)(void *, size_t))wr_dlsym("free_sized");
    if (!free_sized_fn) UNSUPPORTED();
    size_t n = 8 * MiB;
    char *p = malloc(wr_size(n));
    memset(p, 0, 4096);
    free_sized_fn(p, wr_size(64)); /* MISUSE: wrong size */
    size_t bad = wr_churn(64, 64, 2, p, p + 1);
    wr_churn(n, 2, 2, NULL, NULL);
    wr_info("64-byte blocks handed out at the 8 MiB block: %zu", bad);
    MISSED();
}
