/* realloc_freed_moved - realloc(p, 4096) of a freed 48-byte block (it moves the block).
 * A use after free through realloc: moving the block frees p a second time.
 * missed:    later malloc(48) hands p out twice, or never again.
 * mitigated: p comes back once only.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    void *p = malloc(wr_size(48)), *after = malloc(48);
    memset(p, 0, 48);
    free(p);
    void *q = realloc(wr_opaque(p), wr_size(4096)); /* MISUSE: p was freed */
    wr_info("realloc returned %s", q == NULL ? "NULL" : q == p ? "p" : "a new block");
    wr_sink_ptr = after;
    wr_sink_ptr = q;
    wr_after_double_free(p, 48, wr_budget(48, 1 * MiB));
}
