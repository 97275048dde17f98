/* df_mid_immediate - double free of an 8 KiB block, immediately after the first free.
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
    free(wr_opaque(p)); /* MISUSE: double free */
    wr_sink_ptr = before;
    wr_sink_ptr = after;
    wr_after_double_free(p, n, wr_budget(n, 16 * MiB));
}
