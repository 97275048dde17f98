/* df_realloc_moved - free of the old pointer after realloc moved the block (32 B -> 4 KiB).
 * missed:    later malloc(32) hands the old block out twice, or never again.
 * mitigated: the old block comes back once only.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    void *p = malloc(wr_size(32)), *after = malloc(32);
    memset(p, 0, 32);
    void *q = realloc(p, wr_size(4096));
    if (q == p) q = realloc(p, wr_size(1 * MiB));
    if (q == p) {
        wr_info("realloc never moved the block");
        UNSUPPORTED();
    }
    free(wr_opaque(p)); /* MISUSE: p was freed by the moving realloc */
    wr_sink_ptr = after;
    wr_sink_ptr = q;
    wr_after_double_free(p, 32, wr_budget(32, 1 * MiB));
}
