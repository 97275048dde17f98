/* df_small_immediate - double free of a 32-byte block, immediately after the first free.
 * missed:    later malloc(32) hands the block out twice (two live owners), or
 *            never hands it out again (cannot tell, counted as missed).
 * mitigated: the second free was neutralised: the block comes back once only.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    void *before = malloc(32), *p = malloc(wr_size(32)), *after = malloc(32);
    memset(p, 0, 32);
    free(p);
    free(wr_opaque(p)); /* MISUSE: double free */
    wr_sink_ptr = before;
    wr_sink_ptr = after;
    wr_after_double_free(p, 32, wr_budget(32, 1 * MiB));
}
