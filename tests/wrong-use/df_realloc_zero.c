/* df_realloc_zero - realloc(p, 0) (frees p, glibc semantics) followed by free(p).
 * If realloc(p, 0) returns p itself the block was never freed and no double
 * free happens: reported as mitigated.
 * missed:    later malloc(32) hands the block out twice, or never again.
 * mitigated: the block comes back once only (or was not freed by realloc).
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    void *before = malloc(32), *p = malloc(wr_size(32)), *after = malloc(32);
    memset(p, 0, 32);
    void *q = realloc(p, wr_size(0));
    wr_info("realloc(p, 0) returned %s", q == NULL ? "NULL" : q == p ? "p" : "a new block");
    if (q == p) MITIGATED();
    free(wr_opaque(p)); /* MISUSE: p was already freed by realloc */
    wr_sink_ptr = before;
    wr_sink_ptr = after;
    wr_sink_ptr = q;
    wr_after_double_free(p, 32, wr_budget(32, 1 * MiB));
}
