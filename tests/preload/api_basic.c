/*
 * api_basic.c - basic malloc-family contract.
 *
 * Tests:
 *  - the allocator in use is the one under test (check_allocator) and every
 *    public entry point (calloc ... reallocarray) is interposed by it;
 *  - malloc(0) returns unique, non-NULL, freeable pointers;
 *  - free(NULL) is a no-op;
 *  - every result of every allocation API is 16-byte aligned (glibc's
 *    MALLOC_ALIGNMENT on x86-64, which programs rely on for SSE/long double),
 *    for sizes 0..4096 step 1 and powers of two (and +-1) up to 64 MiB, and is
 *    writable at its first and last requested byte;
 *  - blocks alive at the same time never overlap (4097 live blocks each
 *    filled with its own pattern, verified after all were allocated).
 * Why: a wrong size-class table, header placement or alignment rounding shows
 * up as misaligned pointers or blocks that share bytes.
 */
#include "check.h"

#define MAX_SWEEP 4096

typedef void *(*alloc_fn)(size_t n);

static void *a_malloc(size_t n) { return malloc(n); }
static void *a_calloc1(size_t n) { return calloc(1, n); }
static void *a_callocn(size_t n) { return calloc(n, 1); }
static void *a_realloc_null(size_t n) { return realloc(NULL, n); }
static void *a_realloc_grow(size_t n) {
    void *p = malloc(8);
    if (!p) return NULL;
    memset(p, 0x11, 8);
    if (n == 0) { free(p); return NULL; } /* realloc(p,0) is tested in api_realloc */
    void *q = realloc(p, n);
    if (!q) free(p);
    return q;
}
static void *a_reallocarray(size_t n) { return reallocarray(NULL, n, 1); }
static void *a_aligned1(size_t n) { return aligned_alloc(1, n); }
static void *a_aligned8(size_t n) { return aligned_alloc(8, n); }
static void *a_aligned16(size_t n) { return aligned_alloc(16, n); }
static void *a_memalign8(size_t n) { return memalign(8, n); }
static void *a_memalign4(size_t n) { return memalign(4, n); }
static void *a_posix8(size_t n) {
    void *p = NULL;
    return posix_memalign(&p, 8, n) == 0 ? p : NULL;
}
static void *a_valloc(size_t n) { return valloc(n); }
static void *a_pvalloc(size_t n) { return pvalloc(n); }

static const struct {
    const char *name;
    alloc_fn fn;
    size_t align; /* required alignment of the result */
} apis[] = {
    {"malloc", a_malloc, 16},
    {"calloc(1,n)", a_calloc1, 16},
    {"calloc(n,1)", a_callocn, 16},
    {"realloc(NULL,n)", a_realloc_null, 16},
    {"realloc(malloc(8),n)", a_realloc_grow, 16},
    {"reallocarray(NULL,n,1)", a_reallocarray, 16},
    {"aligned_alloc(1,n)", a_aligned1, 16},
    {"aligned_alloc(8,n)", a_aligned8, 16},
    {"aligned_alloc(16,n)", a_aligned16, 16},
    {"memalign(4,n)", a_memalign4, 16},
    {"memalign(8,n)", a_memalign8, 16},
    {"posix_memalign(8,n)", a_posix8, 16},
    {"valloc", a_valloc, 4096},
    {"pvalloc", a_pvalloc, 4096},
};
#define NAPIS (sizeof apis / sizeof apis[0])

static void check_one(size_t ai, size_t n, int touch_pages) {
    void *p = apis[ai].fn(n);
    if (n == 0 && apis[ai].fn == a_realloc_grow) return; /* realloc(p,0) frees */
    CHECK(p != NULL, "%s(%zu) returned NULL", apis[ai].name, n);
    if (!p) return;
    CHECK(is_aligned(p, apis[ai].align), "%s(%zu) = %p not %zu-aligned", apis[ai].name, n, p,
          apis[ai].align);
    unsigned char *b = p;
    if (n) {
        b[0] = 0x5a;
        b[n - 1] = 0xa5;
        if (touch_pages)
            for (size_t i = 0; i < n; i += 1 << 20) b[i] = 1;
    }
    sink(p);
    free(p);
}

static void test_malloc0(void) {
    void *a = malloc(0), *b = malloc(0), *c = malloc(0);
    CHECK(a && b && c, "malloc(0) returned NULL (%p %p %p)", a, b, c);
    CHECK(a != b && b != c && a != c, "malloc(0) results not unique: %p %p %p", a, b, c);
    CHECK(is_aligned(a, 16) && is_aligned(b, 16), "malloc(0) misaligned %p %p", a, b);
    free(a);
    free(b);
    free(c);
    /* Many live zero-size blocks must all be distinct. */
    enum { N = 1000 };
    static void *v[N];
    for (int i = 0; i < N; i++) v[i] = malloc(0);
    int dup = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N && !dup; j++)
            if (v[i] == v[j]) dup = 1;
    CHECK(!dup, "two live malloc(0) blocks share an address");
    for (int i = 0; i < N; i++) free(v[i]);
}

static void test_free_null(void) {
    errno = 1234;
    free(NULL);
    free(NULL);
    /* glibc preserves errno across free (since 2.33); we only require that a
     * NULL free neither crashes nor changes errno. */
    CHECK(errno == 1234, "free(NULL) changed errno to %d", errno);
    void *p = malloc(32);
    CHECK(p != NULL, "malloc(32) after free(NULL) failed");
    free(p);
}

/* All 4097 blocks alive at once, each patterned; verify none was clobbered. */
static void test_no_overlap(void) {
    static void *blk[MAX_SWEEP + 1];
    for (size_t n = 0; n <= MAX_SWEEP; n++) {
        blk[n] = malloc(n);
        CHECK(blk[n] != NULL, "malloc(%zu) NULL", n);
        if (blk[n]) pat_fill(blk[n], n, (unsigned)n);
    }
    for (size_t n = 0; n <= MAX_SWEEP; n++) {
        if (!blk[n]) continue;
        size_t bad = pat_check(blk[n], n, (unsigned)n);
        CHECK(bad == (size_t)-1, "block malloc(%zu)=%p corrupted at offset %zu (overlap?)", n,
              blk[n], bad);
    }
    /* Address ranges [p, p+max(n,1)) must be pairwise disjoint: sort by
     * start and compare neighbours. */
    typedef struct { uintptr_t s, e; } R;
    static R r[MAX_SWEEP + 1];
    size_t k = 0;
    for (size_t n = 0; n <= MAX_SWEEP; n++)
        if (blk[n]) r[k++] = (R){(uintptr_t)blk[n], (uintptr_t)blk[n] + (n ? n : 1)};
    /* insertion sort is fine for 4k mostly-increasing addresses */
    for (size_t i = 1; i < k; i++) {
        R x = r[i];
        size_t j = i;
        while (j > 0 && r[j - 1].s > x.s) { r[j] = r[j - 1]; j--; }
        r[j] = x;
    }
    for (size_t i = 1; i < k; i++)
        CHECK(r[i - 1].e <= r[i].s, "blocks [%#lx,%#lx) and [%#lx,%#lx) overlap",
              (unsigned long)r[i - 1].s, (unsigned long)r[i - 1].e, (unsigned long)r[i].s,
              (unsigned long)r[i].e);
    for (size_t n = 0; n <= MAX_SWEEP; n++) free(blk[n]);
}

int main(void) {
    check_allocator();
    check_all_exports();
    test_malloc0();
    test_free_null();

    for (size_t ai = 0; ai < NAPIS; ai++)
        for (size_t n = 0; n <= MAX_SWEEP; n++) check_one(ai, n, 0);

    for (size_t ai = 0; ai < NAPIS; ai++)
        for (size_t sh = 3; sh <= 26; sh++) {
            size_t base = (size_t)1 << sh;
            for (int d = -1; d <= 1; d++) check_one(ai, base + d, 1);
        }

    test_no_overlap();
    return check_finish("api_basic");
}
