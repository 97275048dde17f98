/* df_l25 - double free of a 256 KiB block (hakmem's L2.5 tier), immediately.
 * missed:    later malloc(256 KiB) hands the block out twice, or never again.
 * mitigated: the block comes back once only.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    size_t n = 256 * KiB;
    void *before = malloc(n), *p = malloc(wr_size(n)), *after = malloc(n);
    memset(p, 0, 4096);
    free(p);
    free(wr_opaque(p)); /* MISUSE: double free */
    wr_sink_ptr = before;
    wr_sink_ptr = after;
    wr_after_double_free(p, n, wr_budget(n, 32 * MiB));
}
