/*
 * api_realloc.c - realloc / reallocarray semantics.
 *
 * Tests:
 *  - realloc(NULL, n) behaves as malloc(n) (non-NULL, aligned, usable >= n);
 *  - realloc(p, 0) with p != NULL frees p and returns NULL (glibc behaviour;
 *    checked by freeing the result, which must be NULL);
 *  - contents survive growth and shrinkage across every size-class boundary:
 *    1, 15, 16, 17, 100, 1000, 1024, 1025, 4096, 20000, 32768, 32769, 100000,
 *    1 MiB, 1 MiB+1, 5 MiB, 64 MiB and back down, with the pattern verified
 *    at each step, while a neighbour block stays intact;
 *  - byte-by-byte growth 1..5000 (the common "append" pattern) and in-place
 *    shrink/regrow;
 *  - realloc to a huge size fails with NULL/ENOMEM and leaves the old block
 *    intact and still usable/freeable;
 *  - reallocarray success path (NULL and existing block, grow and shrink).
 * Why: realloc is where in-place growth, class changes and mmap remapping
 * bugs lose or corrupt data.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

/* verify the first n bytes of a block that was filled with fill(p, filled,
 * seed); blocks > 8 MiB are filled sparsely (head/tail 256 KiB and a byte
 * every 4 KiB) to bound run time, and verified the same way */
static size_t verify(const unsigned char *p, size_t n, size_t filled, unsigned seed) {
    if (filled <= 8 * MiB) return pat_check(p, n, seed);
    const size_t e = 256 * 1024; /* filled > 8 MiB so filled > 2e */
    size_t r = pat_check(p, n < e ? n : e, seed);
    if (r != (size_t)-1) return r;
    for (size_t i = e; i < n && i < filled - e; i += 4096) /* sparse middle */
        if (p[i] != pat_byte(seed, i)) return i;
    for (size_t i = filled - e; i < n; i++) /* fully written tail, if kept */
        if (p[i] != pat_byte(seed, i)) return i;
    return (size_t)-1;
}
static void fill(unsigned char *p, size_t n, unsigned seed) {
    if (n <= 8 * MiB) { pat_fill(p, n, seed); return; }
    size_t e = 256 * 1024;
    pat_fill(p, e, seed);
    for (size_t i = e; i < n - e; i += 4096) p[i] = pat_byte(seed, i);
    for (size_t i = n - e; i < n; i++) p[i] = pat_byte(seed, i);
}

static void test_realloc_null(void) {
    size_t sizes[] = {0, 1, 24, 1000, 70000, 3 * MiB};
    for (size_t i = 0; i < 6; i++) {
        unsigned char *p = realloc(NULL, sizes[i]);
        CHECK(p != NULL && is_aligned(p, 16), "realloc(NULL,%zu) = %p", sizes[i], (void *)p);
        if (!p) continue;
        CHECK(malloc_usable_size(p) >= sizes[i], "usable(realloc(NULL,%zu)) = %zu", sizes[i],
              malloc_usable_size(p));
        if (sizes[i]) memset(p, 0x42, sizes[i]);
        free(p);
    }
}

static void test_realloc_zero(void) {
    size_t sizes[] = {1, 100, 5000, 200000, 4 * MiB};
    for (size_t i = 0; i < 5; i++) {
        void *p = malloc(sizes[i]);
        CHECK(p != NULL, "malloc NULL");
        memset(p, 1, sizes[i]);
        void *q = realloc(p, 0);
        CHECK(q == NULL, "realloc(p(%zu), 0) returned %p, expected NULL (p freed)", sizes[i], q);
        free(q); /* if the allocator returned a block, don't leak it */
    }
    /* the memory freed by realloc(p,0) is reusable: repeat many times, RSS bounded */
    long before = rss_mib();
    for (int i = 0; i < 2000; i++) {
        void *p = malloc(256 * 1024);
        memset(p, 2, 256 * 1024);
        void *q = realloc(p, 0);
        free(q);
    }
    long after = rss_mib();
    CHECK(after - before < 100, "realloc(p,0) leaks: RSS %ld -> %ld MiB", before, after);
}

static void test_size_ladder(void) {
    const size_t up[] = {1, 15, 16, 17, 100, 1000, 1024, 1025, 4096, 20000, 32768, 32769,
                         100000, MiB, MiB + 1, 5 * MiB, 64 * MiB};
    const size_t nup = sizeof up / sizeof up[0];
    size_t seq[2 * sizeof up / sizeof up[0]];
    size_t k = 0;
    for (size_t i = 0; i < nup; i++) seq[k++] = up[i];
    for (size_t i = nup - 1; i-- > 0;) seq[k++] = up[i]; /* back down to 1 */

    for (int variant = 0; variant < 2; variant++) {
        /* variant 1 keeps neighbour blocks around to block in-place growth */
        unsigned char *nb[8] = {0};
        size_t nb_len[8] = {0};
        unsigned char *p = malloc(seq[0]);
        CHECK(p != NULL, "malloc(1) NULL");
        if (!p) return;
        size_t cur = seq[0];
        unsigned seed = 1;
        pat_fill(p, cur, seed);
        for (size_t i = 1; i < k; i++) {
            if (variant == 1) {
                size_t j = i % 8;
                if (nb[j])
                    CHECK(first_not(nb[j], nb_len[j], 0xEE) == (size_t)-1,
                          "neighbour block of %zu bytes corrupted during realloc ladder",
                          nb_len[j]);
                free(nb[j]);
                nb_len[j] = seq[i] < 4096 ? seq[i] : 64;
                nb[j] = malloc(nb_len[j]);
                if (nb[j]) memset(nb[j], 0xEE, nb_len[j]);
            }
            size_t n = seq[i];
            unsigned char *q = realloc(p, n);
            CHECK(q != NULL, "realloc(%zu -> %zu) NULL", cur, n);
            if (!q) break;
            CHECK(is_aligned(q, 16), "realloc(%zu -> %zu) = %p misaligned", cur, n, (void *)q);
            CHECK(malloc_usable_size(q) >= n, "usable after realloc to %zu = %zu", n,
                  malloc_usable_size(q));
            size_t keep = cur < n ? cur : n;
            size_t bad = verify(q, keep, cur, seed);
            CHECK(bad == (size_t)-1,
                  "realloc %zu -> %zu (variant %d): byte %zu of preserved prefix %zu changed", cur,
                  n, variant, bad, keep);
            p = q;
            cur = n;
            seed++;
            fill(p, cur, seed);
        }
        for (int j = 0; j < 8; j++) {
            if (nb[j])
                CHECK(first_not(nb[j], nb_len[j], 0xEE) == (size_t)-1,
                      "neighbour block of %zu bytes corrupted during realloc ladder", nb_len[j]);
            free(nb[j]);
        }
        free(p);
    }
}

static void test_bytewise_growth(void) {
    unsigned char *p = NULL;
    for (size_t n = 1; n <= 5000; n++) {
        unsigned char *q = realloc(p, n);
        CHECK(q != NULL, "realloc grow to %zu NULL", n);
        if (!q) { free(p); return; }
        p = q;
        p[n - 1] = pat_byte(3, n - 1);
    }
    size_t bad = pat_check(p, 5000, 3);
    CHECK(bad == (size_t)-1, "bytewise realloc growth lost byte %zu", bad);
    /* shrink in place then grow back: the retained prefix must survive */
    for (size_t n = 4999; n >= 100; n -= 37) {
        p = realloc(p, n);
        CHECK(p != NULL, "shrink NULL");
        if (!p) return;
    }
    bad = pat_check(p, 100, 3);
    CHECK(bad == (size_t)-1, "prefix lost after shrinking at %zu", bad);
    free(p);

    /* same size realloc returns valid block with same contents */
    p = malloc(777);
    pat_fill(p, 777, 8);
    unsigned char *q = realloc(p, 777);
    CHECK(q && pat_check(q, 777, 8) == (size_t)-1, "realloc to same size lost data");
    free(q);
}

static void test_realloc_huge_fails(void) {
    const size_t huge[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 100, SIZE_MAX / 2, PTRDIFF_MAX,
                           (size_t)1 << 47};
    const size_t base[] = {10, 5000, 300000, 8 * MiB};
    for (size_t b = 0; b < 4; b++) {
        unsigned char *p = malloc(base[b]);
        CHECK(p != NULL, "malloc NULL");
        if (!p) continue;
        pat_fill(p, base[b], 40 + b);
        for (size_t h = 0; h < sizeof huge / sizeof huge[0]; h++) {
            errno = 0;
            void *q = realloc(p, opaque_size(huge[h]));
            int e = errno;
            CHECK(q == NULL, "realloc(p(%zu), %#zx) = %p, expected NULL", base[b], huge[h], q);
            CHECK(e == ENOMEM, "realloc(p(%zu), %#zx): errno %d, expected ENOMEM", base[b],
                  huge[h], e);
            if (q) { p = q; continue; }
            size_t bad = pat_check(p, base[b], 40 + b);
            CHECK(bad == (size_t)-1, "failed realloc to %#zx damaged old block at %zu", huge[h],
                  bad);
        }
        /* old block still fully usable */
        unsigned char *q = realloc(p, base[b] * 2);
        CHECK(q != NULL, "realloc after failed huge realloc NULL");
        if (q) {
            CHECK(pat_check(q, base[b], 40 + b) == (size_t)-1, "data lost in later realloc");
            free(q);
        } else {
            free(p);
        }
    }
}

static void test_reallocarray_ok(void) {
    int *a = reallocarray(NULL, 100, sizeof(int));
    CHECK(a != NULL && is_aligned(a, 16), "reallocarray(NULL,100,4) = %p", (void *)a);
    if (!a) return;
    for (int i = 0; i < 100; i++) a[i] = i * 3;
    int *b = reallocarray(a, 100000, sizeof(int));
    CHECK(b != NULL, "reallocarray grow NULL");
    if (!b) { free(a); return; }
    int ok = 1;
    for (int i = 0; i < 100; i++) ok &= b[i] == i * 3;
    CHECK(ok, "reallocarray grow lost data");
    for (int i = 0; i < 100000; i++) b[i] = i;
    int *c = reallocarray(b, 10, sizeof(int));
    CHECK(c != NULL, "reallocarray shrink NULL");
    if (!c) { free(b); return; }
    ok = 1;
    for (int i = 0; i < 10; i++) ok &= c[i] == i;
    CHECK(ok, "reallocarray shrink lost data");
    CHECK(malloc_usable_size(c) >= 40, "usable after reallocarray %zu", malloc_usable_size(c));
    free(c);
    void *z = reallocarray(NULL, 0, 16);
    CHECK(z != NULL, "reallocarray(NULL,0,16) returned NULL (should be like malloc(0))");
    free(z);
}

int main(void) {
    check_allocator();
    test_realloc_null();
    test_realloc_zero();
    test_size_ladder();
    test_bytewise_growth();
    test_realloc_huge_fails();
    test_reallocarray_ok();
    return check_finish("api_realloc");
}
