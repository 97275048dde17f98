/* df_large_immediate - double free of an 8 MiB block, immediately.
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
    free(wr_opaque(p)); /* MISUSE: double free */
    wr_after_double_free(p, n, wr_budget(n, 64 * MiB));
}
