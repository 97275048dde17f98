/* realloc_freed_same - realloc(p, 40) of a freed 48-byte block (a size it still holds).
 * A use after free through realloc: the freed block may come back as the caller's
 * live block while it also waits in the allocator's free lists.
 * missed:    realloc returns p and a later malloc(48) hands p out as well (or realloc
 *            moved it and p then comes back twice or never).
 * mitigated: p comes back once only.
 */
#include "wrong.h"

int main(void) {
    wr_begin();
    void *p = malloc(wr_size(48)), *after = malloc(48);
    memset(p, 0, 48);
    free(p);
    void *q = realloc(wr_opaque(p), wr_size(40)); /* MISUSE: p was freed */
    wr_info("realloc returned %s", q == NULL ? "NULL" : q == p ? "p" : "a new block");
    wr_sink_ptr = after;
    if (q != p) {
        wr_sink_ptr = q;
        wr_after_double_free(p, 48, wr_budget(48, 1 * MiB));
    }
    memset(q, 'q', 40);   /* the caller's block now */
    size_t n = wr_budget(48, 1 * MiB);
    for (size_t i = 0; i < n; i++) {
        void *r = malloc(wr_size(48));
        if (r == NULL) break;
        wr_blocks[i] = r;
        if (r == p) {
            wr_info("malloc(48) handed out p, which realloc returned live (allocation %zu)", i);
            MISSED();
        }
    }
    MITIGATED();
}
