/*
 * api_errors.c - failure paths: huge sizes and multiplication overflow.
 *
 * Every API asked for a size no machine can satisfy (SIZE_MAX, SIZE_MAX-1,
 * SIZE_MAX-100, SIZE_MAX/2, PTRDIFF_MAX, 1<<47, and sizes that overflow only
 * after the allocator adds its header or rounds to a page / alignment) must
 * return NULL with errno == ENOMEM (posix_memalign: return ENOMEM), without
 * crashing. calloc and reallocarray with nmemb*size > SIZE_MAX -> NULL, ENOMEM
 * (and reallocarray leaves the old block intact). errno is set to 0 before
 * every call. Afterwards the heap must still work normally.
 * Why: "size + header" or "round up to alignment" overflows wrap to a tiny
 * size and return a too-small block (heap overflow) instead of failing.
 */
#include "check.h"

static const size_t huge[] = {
    SIZE_MAX,          SIZE_MAX - 1,      SIZE_MAX - 7,  SIZE_MAX - 15,
    SIZE_MAX - 16,     SIZE_MAX - 100,    SIZE_MAX - 4095, SIZE_MAX - 4096,
    SIZE_MAX - 65536,  SIZE_MAX - (1 << 21), SIZE_MAX / 2, SIZE_MAX / 2 + 1,
    PTRDIFF_MAX,       (size_t)PTRDIFF_MAX - 4095, (size_t)1 << 47, ((size_t)1 << 47) + 1,
    (size_t)1 << 48,   (size_t)1 << 62,
};
#define NHUGE (sizeof huge / sizeof huge[0])

#define EXPECT_ENOMEM(call, desc, arg)                                                  \
    do {                                                                                \
        errno = 0;                                                                      \
        void *r_ = (call);                                                              \
        int e_ = errno;                                                                 \
        CHECK(r_ == NULL, "%s(%#zx) = %p, expected NULL", desc, (size_t)(arg), r_);     \
        CHECK(e_ == ENOMEM, "%s(%#zx): errno %d, expected ENOMEM", desc, (size_t)(arg), \
              e_);                                                                      \
        if (r_) free(r_);                                                               \
    } while (0)

static void test_huge(void) {
    for (size_t i = 0; i < NHUGE; i++) {
        size_t n = opaque_size(huge[i]);
        EXPECT_ENOMEM(malloc(n), "malloc", n);
        EXPECT_ENOMEM(calloc(1, n), "calloc(1,n)", n);
        EXPECT_ENOMEM(calloc(n, 1), "calloc(n,1)", n);
        EXPECT_ENOMEM(realloc(NULL, n), "realloc(NULL,n)", n);
        EXPECT_ENOMEM(reallocarray(NULL, n, 1), "reallocarray(NULL,n,1)", n);
        EXPECT_ENOMEM(aligned_alloc(16, n), "aligned_alloc(16,n)", n);
        EXPECT_ENOMEM(aligned_alloc(64, n), "aligned_alloc(64,n)", n);
        EXPECT_ENOMEM(aligned_alloc(4096, n), "aligned_alloc(4096,n)", n);
        EXPECT_ENOMEM(aligned_alloc(1 << 21, n), "aligned_alloc(2M,n)", n);
        EXPECT_ENOMEM(memalign(32, n), "memalign(32,n)", n);
        EXPECT_ENOMEM(memalign(65536, n), "memalign(65536,n)", n);
        EXPECT_ENOMEM(valloc(n), "valloc", n);
        EXPECT_ENOMEM(pvalloc(n), "pvalloc", n);
        size_t aligns[] = {8, 16, 64, 4096, 1 << 21};
        for (size_t a = 0; a < 5; a++) {
            void *sentinel = (void *)(uintptr_t)0xfeedf00dul;
            void *out = sentinel;
            int r = posix_memalign(&out, aligns[a], n);
            CHECK(r == ENOMEM, "posix_memalign(%zu, %#zx) returned %d, expected ENOMEM",
                  aligns[a], n, r);
            if (r == 0 && out != sentinel) free(out);
        }
    }
    /* huge realloc of an existing block: NULL/ENOMEM, block intact */
    unsigned char *p = malloc(1000);
    pat_fill(p, 1000, 77);
    for (size_t i = 0; i < NHUGE; i++) {
        errno = 0;
        void *q = realloc(p, opaque_size(huge[i]));
        int e = errno;
        CHECK(q == NULL && e == ENOMEM, "realloc(p, %#zx) = %p errno %d", huge[i], q, e);
        if (q) p = q;
        else
            CHECK(pat_check(p, 1000, 77) == (size_t)-1, "old block damaged by failed realloc");
    }
    free(p);
}

static void test_overflow(void) {
    const struct { size_t a, b; } ov[] = {
        {SIZE_MAX, 2},          {2, SIZE_MAX},
        {SIZE_MAX / 2 + 1, 2},  {2, SIZE_MAX / 2 + 1},
        {(size_t)1 << 32, (size_t)1 << 32}, {((size_t)1 << 32) + 1, (size_t)1 << 32},
        {SIZE_MAX, SIZE_MAX},   {(size_t)1 << 63, 2},
        {SIZE_MAX / 16 + 1, 16}, {16, SIZE_MAX / 16 + 1},
        {65537, 281470681808897ul}, /* 65537 * 281470681808897 wraps to 1 */
        {3, SIZE_MAX / 3 + 1},
    };
    for (size_t i = 0; i < sizeof ov / sizeof ov[0]; i++) {
        size_t a = opaque_size(ov[i].a), b = opaque_size(ov[i].b);
        errno = 0;
        void *r = calloc(a, b);
        int e = errno;
        CHECK(r == NULL && e == ENOMEM, "calloc(%#zx, %#zx) = %p errno %d, expected NULL/ENOMEM",
              a, b, r, e);
        free(r);
        errno = 0;
        r = reallocarray(NULL, a, b);
        e = errno;
        CHECK(r == NULL && e == ENOMEM,
              "reallocarray(NULL, %#zx, %#zx) = %p errno %d, expected NULL/ENOMEM", a, b, r, e);
        free(r);
        unsigned char *p = malloc(64);
        pat_fill(p, 64, 5);
        errno = 0;
        r = reallocarray(p, a, b);
        e = errno;
        CHECK(r == NULL && e == ENOMEM,
              "reallocarray(p, %#zx, %#zx) = %p errno %d, expected NULL/ENOMEM", a, b, r, e);
        if (r) {
            free(r);
        } else {
            CHECK(pat_check(p, 64, 5) == (size_t)-1, "reallocarray overflow damaged old block");
            free(p);
        }
    }
}

/* errno must not be clobbered by successful calls? (Not required by C, and
 * glibc may change it.) We only require failures to set ENOMEM; and that a
 * failed call leaves the heap usable. */
static void test_after(void) {
    void *v[100];
    for (int i = 0; i < 100; i++) {
        v[i] = malloc(i * 100 + 1);
        CHECK(v[i] != NULL, "malloc after failures NULL");
        if (v[i]) memset(v[i], i, i * 100 + 1);
    }
    for (int i = 0; i < 100; i++) {
        if (v[i]) CHECK(first_not(v[i], i * 100 + 1, (unsigned char)i) == (size_t)-1, "heap broken");
        free(v[i]);
    }
}

int main(void) {
    check_allocator();
    test_huge();
    test_overflow();
    test_after();
    return check_finish("api_errors");
}
