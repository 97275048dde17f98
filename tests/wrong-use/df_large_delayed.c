/* df_large_delayed - double free of an 8 MiB block, with allocations/frees of other sizes in between.
 * missed:    later malloc(8 MiB) hands the block out twice, or never again.
 * mitigated: the block comes back once only.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 8 * MiB;
    char *p = malloc(wr_size(n));
    memset(p, 0, 4096);
    free(p);
    static const size_t sizes[] = {100, 5000, 300 * KiB, 2 * MiB, 16 * MiB};
    void *live[5];
    for (int r = 0; r < 10; r++) {
        for (int i = 0; i < 5; i++) live[i] = malloc(sizes[i] + 16 * (size_t)r);
        for (int i = 0; i < 5; i += 2) free(live[i]);
        for (int i = 1; i < 5; i += 2) free(live[i]);
    }
    free(wr_opaque(p)); /* MISUSE: double free, long after the first */
    wr_after_double_free(p, n, wr_budget(n, 64 * MiB));
}
