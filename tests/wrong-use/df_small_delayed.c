/* df_small_delayed - double free of a 32-byte block, with allocations/frees of other sizes in between.
 * The intervening sizes are all larger than the block's, so it cannot be
 * reused before the second free.
 * missed:    later malloc(32) hands the block out twice, or never again.
 * mitigated: the block comes back once only.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    void *before = malloc(32), *p = malloc(wr_size(32)), *after = malloc(32);
    memset(p, 0, 32);
    free(p);
    static const size_t sizes[] = {64, 200, 1000, 4000, 20000, 100000};
    void *live[6];
    for (int r = 0; r < 20; r++) {
        for (int i = 0; i < 6; i++) live[i] = malloc(sizes[i] + (size_t)r);
        for (int i = 0; i < 6; i += 2) free(live[i]);
        for (int i = 1; i < 6; i += 2) free(live[i]);
    }
    free(wr_opaque(p)); /* MISUSE: double free, long after the first */
    wr_sink_ptr = before;
    wr_sink_ptr = after;
    wr_after_double_free(p, 32, wr_budget(32, 1 * MiB));
}
