/*
 * api_extras.c - non-standard entry points hakmem exports.
 *
 *  - C23 free_sized(p, size) and free_aligned_sized(p, alignment, size):
 *    looked up with dlsym(RTLD_DEFAULT) (glibc 2.36 has neither) and tested
 *    only when found: they free correctly for many sizes (incl. size 0 and
 *    NULL pointers), freed memory is reused (RSS stays bounded over many
 *    large free_sized calls), heap stays consistent afterwards.
 *    With EXPECT_LIB set they must be found *in the library under test*.
 *  - glibc-internal names __libc_malloc/__libc_free/__libc_calloc/
 *    __libc_realloc/__libc_memalign/__libc_valloc/__libc_pvalloc: with
 *    EXPECT_LIB set, dlsym(RTLD_DEFAULT, name) must resolve into the library
 *    under test (otherwise code calling them, e.g. via glibc hooks or old
 *    binaries, would mix two heaps); they must work and interoperate with
 *    plain malloc/free crosswise. If they resolve elsewhere we report the
 *    failure and skip the crosswise part (it would crash, not inform).
 * Why: a missing or mis-wired alias silently splits the process into two
 * heaps and crashes on the first crosswise free.
 */
#include "check.h"

typedef void (*free_sized_fn)(void *, size_t);
typedef void (*free_aligned_sized_fn)(void *, size_t, size_t);

static int in_lib_under_test(void *fn) {
    const char *want = expect_lib();
    if (!want) return 1;
    return fn && strstr(object_of(fn), want) != NULL;
}

static void test_free_sized(void) {
    free_sized_fn fs = (free_sized_fn)dlsym(RTLD_DEFAULT, "free_sized");
    free_aligned_sized_fn fas = (free_aligned_sized_fn)dlsym(RTLD_DEFAULT, "free_aligned_sized");
    const char *want = expect_lib();
    if (want && strstr(want, "hakmem")) {
        CHECK(fs != NULL, "free_sized not exported by %s", want);
        CHECK(fas != NULL, "free_aligned_sized not exported by %s", want);
    }
    if (fs) {
        CHECK(in_lib_under_test((void *)fs), "free_sized resolves to %s", object_of((void *)fs));
        fs(NULL, 0);
        fs(NULL, 123);
        for (size_t n = 0; n <= 5000; n++) {
            void *p = malloc(n);
            CHECK(p != NULL, "malloc(%zu) NULL", n);
            if (n) memset(p, 0x3c, n);
            fs(p, n);
        }
        size_t big[] = {65536, 65537, 1 << 20, (1 << 20) + 3, 16 << 20};
        for (size_t i = 0; i < 5; i++) {
            void *p = malloc(big[i]);
            memset(p, 1, big[i]);
            fs(p, big[i]);
            p = calloc(1, big[i]); /* free_sized of a calloc block */
            fs(p, big[i]);
        }
        /* freed memory must be reused: 4000 x 1 MiB, RSS bounded */
        long before = rss_mib();
        for (int i = 0; i < 4000; i++) {
            unsigned char *p = malloc(1 << 20);
            for (size_t j = 0; j < (1 << 20); j += 4096) p[j] = (unsigned char)j;
            fs(p, 1 << 20);
        }
        long after = rss_mib();
        CHECK(after - before < 200, "free_sized does not release: RSS %ld -> %ld MiB", before,
              after);
    } else {
        fprintf(stderr, "note: free_sized not available, skipped\n");
    }
    if (fas) {
        CHECK(in_lib_under_test((void *)fas), "free_aligned_sized resolves to %s",
              object_of((void *)fas));
        fas(NULL, 64, 0);
        fas(NULL, 16, 100);
        for (size_t a = 1; a <= (1u << 22); a *= 2) {
            size_t sizes[] = {0, 1, a, 3 * a + 5};
            for (int s = 0; s < 4; s++) {
                void *p = aligned_alloc(a, sizes[s]);
                CHECK(p != NULL, "aligned_alloc(%zu,%zu) NULL", a, sizes[s]);
                if (sizes[s]) memset(p, 0x5e, sizes[s] < 65536 ? sizes[s] : 65536);
                fas(p, a, sizes[s]);
            }
        }
        long before = rss_mib();
        for (int i = 0; i < 2000; i++) {
            unsigned char *p = aligned_alloc(4096, 1 << 20);
            for (size_t j = 0; j < (1 << 20); j += 4096) p[j] = 1;
            fas(p, 4096, 1 << 20);
        }
        long after = rss_mib();
        CHECK(after - before < 200, "free_aligned_sized does not release: RSS %ld -> %ld MiB",
              before, after);
    } else {
        fprintf(stderr, "note: free_aligned_sized not available, skipped\n");
    }
    /* heap still sane */
    void *v[64];
    for (int i = 0; i < 64; i++) { v[i] = malloc(i * 33 + 1); memset(v[i], i, i * 33 + 1); }
    for (int i = 0; i < 64; i++) {
        CHECK(first_not(v[i], i * 33 + 1, (unsigned char)i) == (size_t)-1, "heap broken");
        free(v[i]);
    }
}

static void test_libc_names(void) {
    void *(*lm)(size_t) = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "__libc_malloc");
    void (*lf)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, "__libc_free");
    void *(*lc)(size_t, size_t) = (void *(*)(size_t, size_t))dlsym(RTLD_DEFAULT, "__libc_calloc");
    void *(*lr)(void *, size_t) = (void *(*)(void *, size_t))dlsym(RTLD_DEFAULT, "__libc_realloc");
    void *(*lma)(size_t, size_t) =
        (void *(*)(size_t, size_t))dlsym(RTLD_DEFAULT, "__libc_memalign");
    void *(*lv)(size_t) = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "__libc_valloc");
    void *(*lpv)(size_t) = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "__libc_pvalloc");
    struct { const char *n; void *f; } all[] = {
        {"__libc_malloc", (void *)lm},   {"__libc_free", (void *)lf},
        {"__libc_calloc", (void *)lc},   {"__libc_realloc", (void *)lr},
        {"__libc_memalign", (void *)lma}, {"__libc_valloc", (void *)lv},
        {"__libc_pvalloc", (void *)lpv},
    };
    int all_ok = 1;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        CHECK(all[i].f != NULL, "%s not found", all[i].n);
        int ok = all[i].f && in_lib_under_test(all[i].f);
        CHECK(ok || !all[i].f, "%s resolves to '%s', not the library under test '%s'", all[i].n,
              object_of(all[i].f), expect_lib() ? expect_lib() : "");
        all_ok &= ok;
    }
    if (!all_ok) {
        fprintf(stderr, "note: __libc_* not all in library under test; crosswise part skipped\n");
        return;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t n = 1; n <= (1u << 22); n = n * 3 + 1) {
        /* __libc_malloc -> free */
        unsigned char *p = lm(n);
        CHECK(p && is_aligned(p, 16), "__libc_malloc(%zu) = %p", n, (void *)p);
        if (!p) continue;
        memset(p, 0x61, n);
        CHECK(malloc_usable_size(p) >= n, "usable(__libc_malloc(%zu)) = %zu", n,
              malloc_usable_size(p));
        free(p);
        /* malloc -> __libc_realloc -> __libc_free */
        p = malloc(n);
        pat_fill(p, n, 4);
        unsigned char *q = lr(p, 2 * n);
        CHECK(q != NULL, "__libc_realloc NULL");
        if (q) {
            CHECK(pat_check(q, n, 4) == (size_t)-1, "__libc_realloc(%zu->%zu) lost data", n,
                  2 * n);
            lf(q);
        } else {
            lf(p);
        }
        /* __libc_calloc zeroed (after dirty reuse), freed with free */
        p = malloc(n);
        memset(p, 0xAB, n);
        free(p);
        p = lc(1, n);
        CHECK(p && first_not(p, n, 0) == (size_t)-1, "__libc_calloc(1,%zu) not zeroed", n);
        free(p);
        /* __libc_memalign -> realloc -> free */
        p = lma(256, n);
        CHECK(p && is_aligned(p, 256), "__libc_memalign(256,%zu) = %p", n, (void *)p);
        if (p) {
            pat_fill(p, n, 6);
            q = realloc(p, n + 100);
            CHECK(q && pat_check(q, n, 6) == (size_t)-1, "realloc of __libc_memalign lost data");
            free(q ? q : p);
        }
        p = lv(n);
        CHECK(p && is_aligned(p, page), "__libc_valloc(%zu) = %p", n, (void *)p);
        lf(p);
        p = lpv(n);
        CHECK(p && is_aligned(p, page) && malloc_usable_size(p) >= (n + page - 1) / page * page,
              "__libc_pvalloc(%zu) = %p usable %zu", n, (void *)p, p ? malloc_usable_size(p) : 0);
        free(p);
    }
    lf(NULL);
    void *r = lr(NULL, 10);
    CHECK(r != NULL, "__libc_realloc(NULL,10) NULL");
    lf(r);
}

int main(void) {
    check_allocator();
    test_free_sized();
    test_libc_names();
    return check_finish("api_extras");
}
