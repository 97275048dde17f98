/*
 * api_calloc.c - calloc always returns zeroed memory.
 *
 * Tests that calloc zeroes fresh memory and, above all, memory that is being
 * reused: for small, medium (64 KiB) and large (8 MiB) sizes we malloc,
 * memset 0xAB, free, then calloc the same size (which an allocator with a
 * free list / cache will likely hand back) and require every byte to be 0.
 * Also many blocks dirtied and freed together then calloc'ed in bulk, odd
 * nmemb*size products, and the calloc-after-realloc-shrink case.
 * Why: allocators skip memset for "known fresh" mmap memory; getting the
 * freshness tracking wrong returns stale data from calloc.
 */
#include "check.h"

static void dirty_then_calloc(size_t n, int rounds) {
    for (int r = 0; r < rounds; r++) {
        unsigned char *p = malloc(n);
        CHECK(p != NULL, "malloc(%zu) NULL", n);
        if (!p) return;
        memset(p, 0xAB, n);
        sink(p);
        free(p);
        unsigned char *q = calloc(1, n);
        CHECK(q != NULL, "calloc(1,%zu) NULL", n);
        if (!q) return;
        size_t bad = first_not(q, n, 0);
        CHECK(bad == (size_t)-1, "calloc(1,%zu) after dirty free: byte %zu = %#x (reused %s)", n,
              bad, bad == (size_t)-1 ? 0 : q[bad], p == q ? "same address" : "other address");
        /* usable tail beyond n is not required to be zero; dirty whole usable
         * size so the next round reuses fully dirty memory */
        memset(q, 0xAB, malloc_usable_size(q));
        free(q);
    }
}

/* nmemb/size split of the same byte count. */
static void dirty_then_calloc_split(size_t nmemb, size_t size) {
    size_t n = nmemb * size;
    unsigned char *p = malloc(n);
    CHECK(p != NULL, "malloc(%zu) NULL", n);
    if (!p) return;
    memset(p, 0xCD, malloc_usable_size(p));
    free(p);
    unsigned char *q = calloc(nmemb, size);
    CHECK(q != NULL, "calloc(%zu,%zu) NULL", nmemb, size);
    if (!q) return;
    size_t bad = first_not(q, n, 0);
    CHECK(bad == (size_t)-1, "calloc(%zu,%zu): byte %zu not zero", nmemb, size, bad);
    free(q);
}

/* Many blocks dirtied and freed together, then the same number calloc'ed. */
static void bulk(size_t n, int count) {
    void **v = malloc(sizeof(void *) * count);
    for (int i = 0; i < count; i++) {
        v[i] = malloc(n);
        CHECK(v[i] != NULL, "malloc(%zu) NULL", n);
        if (v[i]) memset(v[i], 0xAB, malloc_usable_size(v[i]));
    }
    for (int i = 0; i < count; i++) free(v[i]);
    for (int i = 0; i < count; i++) {
        v[i] = calloc(n, 1);
        CHECK(v[i] != NULL, "calloc(%zu,1) NULL", n);
        if (!v[i]) continue;
        size_t bad = first_not(v[i], n, 0);
        CHECK(bad == (size_t)-1, "bulk calloc(%zu,1) #%d: byte %zu not zero", n, i, bad);
        memset(v[i], 0xEE, n); /* dirty for the next size's round */
    }
    for (int i = 0; i < count; i++) free(v[i]);
    free(v);
}

/* A block shrunk with realloc leaves dirty bytes in its old tail: calloc of
 * the freed tail size must still be clean. */
static void realloc_shrink_then_calloc(void) {
    for (size_t n = 64; n <= (1u << 20); n *= 4) {
        unsigned char *p = malloc(n);
        if (!p) continue;
        memset(p, 0xAB, n);
        p = realloc(p, n / 4);
        CHECK(p != NULL, "realloc shrink %zu->%zu NULL", n, n / 4);
        unsigned char *q = calloc(1, n / 2);
        CHECK(q != NULL, "calloc NULL");
        if (q) {
            size_t bad = first_not(q, n / 2, 0);
            CHECK(bad == (size_t)-1, "calloc(%zu) after realloc shrink: byte %zu not zero", n / 2,
                  bad);
        }
        free(q);
        free(p);
    }
}

int main(void) {
    check_allocator();
    /* small: every size 1..1024, then selected */
    for (size_t n = 1; n <= 1024; n++) dirty_then_calloc(n, 2);
    size_t sizes[] = {0, 2000, 4095, 4096, 4097, 8192, 16384, 32768, 32769, 65535, 65536,
                      65537, 100000, 131072, 262144, 1 << 20, (1 << 20) + 1, 4 << 20,
                      8 << 20, (8 << 20) + 4096, 16 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) dirty_then_calloc(sizes[i], 3);
    dirty_then_calloc_split(4, 16);
    dirty_then_calloc_split(3, 333);
    dirty_then_calloc_split(16, 4096);
    dirty_then_calloc_split(1024, 64);       /* 64 KiB */
    dirty_then_calloc_split(8, 1 << 20);     /* 8 MiB */
    dirty_then_calloc_split(1 << 20, 8);     /* 8 MiB */
    bulk(24, 2000);
    bulk(200, 1000);
    bulk(3000, 200);
    bulk(65536, 32);
    bulk(8 << 20, 4);
    realloc_shrink_then_calloc();
    /* calloc(0, x) and calloc(x, 0) return a freeable block (like malloc(0)) */
    void *a = calloc(0, 10), *b = calloc(10, 0), *c = calloc(0, 0);
    CHECK(a && b && c, "calloc with a zero factor returned NULL: %p %p %p", a, b, c);
    CHECK(a != b && b != c && a != c, "calloc zero-size results not unique");
    free(a);
    free(b);
    free(c);
    return check_finish("api_calloc");
}
