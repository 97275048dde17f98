/* df_mid_delayed - double free of an 8 KiB block, with allocations/frees of other sizes in between.
 * The intervening sizes are all larger than 8 KiB, so the block cannot be
 * reused (or split) before the second free.
 * missed:    later malloc(8 KiB) hands the block out twice, or never again.
 * mitigated: the block comes back once only.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 8 * KiB;
    void *before = malloc(n), *p = malloc(wr_size(n)), *after = malloc(n);
    memset(p, 0, n);
    free(p);
    static const size_t sizes[] = {12 * KiB, 16 * KiB, 24 * KiB, 40 * KiB, 300 * KiB};
    void *live[5];
    for (int r = 0; r < 20; r++) {
        for (int i = 0; i < 5; i++) live[i] = malloc(sizes[i] + 16 * (size_t)r);
        for (int i = 0; i < 5; i += 2) free(live[i]);
        for (int i = 1; i < 5; i += 2) free(live[i]);
    }
    free(wr_opaque(p)); /* MISUSE: double free, long after the first */
    wr_sink_ptr = before;
    wr_sink_ptr = after;
    wr_after_double_free(p, n, wr_budget(n, 16 * MiB));
}
