/*
 * api_usable.c - malloc_usable_size contract.
 *
 * Tests that malloc_usable_size(p) >= requested size for every size 0..4096
 * and powers of two +-1 up to 64 MiB (for malloc and aligned allocations),
 * that malloc_usable_size(NULL) == 0, and that the *whole* usable size really
 * belongs to the block: we allocate three neighbours of the same size, fill
 * the outer two with a pattern, write every usable byte of the middle one,
 * and require the neighbours unchanged; then free/reallocate and recheck.
 * Why: programs (and glibc-using libraries) legitimately write up to the
 * usable size; an over-reported size corrupts the next block or metadata.
 */
#include "check.h"

static void neighbour_test(size_t n, int full) {
    unsigned char *a = malloc(n), *b = malloc(n), *c = malloc(n);
    CHECK(a && b && c, "malloc(%zu) x3 returned NULL", n);
    if (!a || !b || !c) { free(a); free(b); free(c); return; }
    size_t ua = malloc_usable_size(a), ub = malloc_usable_size(b), uc = malloc_usable_size(c);
    CHECK(ua >= n && ub >= n && uc >= n, "malloc_usable_size < %zu: %zu %zu %zu", n, ua, ub, uc);
    size_t la = full ? ua : (ua < 8192 ? ua : 8192);
    size_t lc = full ? uc : (uc < 8192 ? uc : 8192);
    pat_fill(a, la, 1);
    pat_fill(c, lc, 3);
    if (full) {
        memset(b, 0x77, ub);
    } else { /* large: first/last 64 KiB and one byte per page */
        size_t edge = ub < 65536 ? ub : 65536;
        memset(b, 0x77, edge);
        memset(b + ub - edge, 0x77, edge);
        for (size_t i = 0; i < ub; i += 4096) b[i] = 0x77;
    }
    size_t bad;
    bad = pat_check(a, la, 1);
    CHECK(bad == (size_t)-1, "size %zu: writing usable size (%zu) of %p corrupted neighbour %p at %zu",
          n, ub, (void *)b, (void *)a, bad);
    bad = pat_check(c, lc, 3);
    CHECK(bad == (size_t)-1, "size %zu: writing usable size (%zu) of %p corrupted neighbour %p at %zu",
          n, ub, (void *)b, (void *)c, bad);
    free(b);
    /* heap still consistent: allocate again (likely reusing b), check again */
    unsigned char *d = malloc(n), *e = malloc(n);
    CHECK(d && e, "malloc(%zu) after free NULL", n);
    if (d) memset(d, 0x33, malloc_usable_size(d) < 65536 ? malloc_usable_size(d) : 65536);
    if (e) memset(e, 0x44, malloc_usable_size(e) < 65536 ? malloc_usable_size(e) : 65536);
    bad = pat_check(a, la, 1);
    CHECK(bad == (size_t)-1, "size %zu: neighbour a corrupted after free/realloc at %zu", n, bad);
    bad = pat_check(c, lc, 3);
    CHECK(bad == (size_t)-1, "size %zu: neighbour c corrupted after free/realloc at %zu", n, bad);
    free(a);
    free(c);
    free(d);
    free(e);
}

static void usable_aligned(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, n) == 0) {
        CHECK(malloc_usable_size(p) >= n, "usable(posix_memalign(64,%zu)) = %zu", n,
              malloc_usable_size(p));
        memset(p, 0x12, malloc_usable_size(p) < (1u << 20) ? malloc_usable_size(p) : (1u << 20));
        free(p);
    } else {
        CHECK(0, "posix_memalign(64,%zu) failed", n);
    }
    p = aligned_alloc(4096, n);
    CHECK(p != NULL, "aligned_alloc(4096,%zu) NULL", n);
    if (p) {
        CHECK(malloc_usable_size(p) >= n, "usable(aligned_alloc(4096,%zu)) = %zu", n,
              malloc_usable_size(p));
        free(p);
    }
    p = calloc(1, n);
    if (p) {
        CHECK(malloc_usable_size(p) >= n, "usable(calloc(1,%zu)) = %zu", n, malloc_usable_size(p));
        free(p);
    }
}

int main(void) {
    check_allocator();
    CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu",
          malloc_usable_size(NULL));
    for (size_t n = 0; n <= 4096; n++) neighbour_test(n, 1);
    for (size_t sh = 12; sh <= 26; sh++)
        for (int d = -1; d <= 1; d++) {
            size_t n = ((size_t)1 << sh) + d;
            neighbour_test(n, n <= (1u << 20));
        }
    for (size_t n = 0; n <= 4096; n += 7) usable_aligned(n);
    for (size_t sh = 12; sh <= 26; sh++) usable_aligned(((size_t)1 << sh) + 1);
    return check_finish("api_usable");
}
