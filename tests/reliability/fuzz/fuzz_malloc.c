/*
 * fuzz_malloc.c - libFuzzer target: bytes -> sequences of allocator calls.
 *
 * Input layout: byte 0 chooses 2..4 threads; the rest is cut into one
 * contiguous stream per thread. Each thread decodes operations from its
 * stream (op byte, then argument bytes) on up to 32 slots of live blocks:
 *   malloc calloc realloc reallocarray aligned_alloc posix_memalign memalign
 *   malloc_usable_size free free_sized(/free_aligned_sized) give/take
 *   (cross-thread hand-off through 8 shared slots) verify-all, edge cases
 *   (malloc(0), realloc(p, 0), impossible sizes, overflowing calloc /
 *   reallocarray, invalid posix_memalign alignments) and realloc chains.
 * Sizes come from byte classes: tiny, small, mid, L2.5, large, and exact
 * tier boundaries +- a few bytes. Every live block carries a pattern (seed
 * from address, size and a counter; blocks > 256 KiB: first/last 64 KiB and
 * 64 bytes per 64 KiB) that is checked before each free and realloc (the
 * preserved prefix) and on verify-all; calloc memory must be
 * zero; alignments and malloc_usable_size >= size are checked, and the
 * usable tail is written. Failures print a message and abort() (libFuzzer
 * saves the input as a crash). Live bytes are capped at 32 MiB per input.
 * Everything is freed before the input returns.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSLOT 32
#define NX 8
#define MAXT 4
#define LIVE_CAP ((long)32 << 20)

#define DIE(...)                                                             \
    do {                                                                     \
        fprintf(stderr, "FUZZ-FAIL %s:%d: ", __FILE__, __LINE__);            \
        fprintf(stderr, __VA_ARGS__);                                        \
        fputc('\n', stderr);                                                 \
        abort();                                                             \
    } while (0)

enum { K_MALLOC, K_CALLOC, K_REALLOC, K_ALIGNED, K_PMA, K_MEMALIGN };

typedef struct {
    unsigned char *p;
    size_t n, len, align;
    uint64_t seed;
    int kind;
} blk;

typedef struct {
    const uint8_t *d;
    size_t n, i;
    blk slot[NSLOT];
    uint64_t ctr;
} tstate;

static _Atomic(blk *) xch[NX];
static atomic_long live;
static void (*p_free_sized)(void *, size_t);
static void (*p_free_aligned_sized)(void *, size_t, size_t);
static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_syms(void) {
    Dl_info info; /* which library serves malloc: fuzz.sh asserts it is the one under test */
    if (dladdr((void *)malloc, &info) && info.dli_fname) fprintf(stderr, "fuzz_malloc: malloc is served by %s\n", info.dli_fname);
    p_free_sized = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "free_sized");
    p_free_aligned_sized = (void (*)(void *, size_t, size_t))dlsym(RTLD_DEFAULT, "free_aligned_sized");
}

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
/* pattern: byte i of a block = byte (i % 8) of pw(seed, i / 8); word-wise
 * fill and check (blocks are at least 8-byte aligned) */
/* the byte loops carry no coverage instrumentation (libFuzzer's cmp tracing
 * would cost ~10x there and tells nothing about the allocator) */
#if defined(__clang__)
#define NOCOV __attribute__((no_sanitize("coverage"), noinline))
#else
#define NOCOV __attribute__((noinline))
#endif
typedef uint64_t u64u __attribute__((aligned(1), may_alias)); /* no memcpy call under -fno-builtin */
static inline uint64_t pw(uint64_t seed, size_t k) { return seed ^ (k * 0x9E3779B97F4A7C15ULL); }
static inline unsigned char pb(uint64_t seed, size_t i) { return (unsigned char)(pw(seed, i >> 3) >> ((i & 7) * 8)); }
NOCOV static void fill_range(unsigned char *p, size_t from, size_t to, uint64_t seed) {
    size_t i = from;
    for (; i < to && (i & 7); i++) p[i] = pb(seed, i);
    for (; i + 8 <= to; i += 8) *(u64u *)(p + i) = pw(seed, i >> 3);
    for (; i < to; i++) p[i] = pb(seed, i);
}
NOCOV static void check_range(const blk *b, size_t from, size_t to, const char *when) {
    size_t i = from;
    for (; i < to && (i & 7); i++)
        if (b->p[i] != pb(b->seed, i)) goto bad;
    for (; i + 8 <= to; i += 8)
        if (*(const u64u *)(b->p + i) != pw(b->seed, i >> 3)) break;
    for (; i < to; i++)
        if (b->p[i] != pb(b->seed, i)) goto bad;
    return;
bad:
    DIE("%s: block %p (kind %d, size %zu, pattern over %zu) corrupted at %zu: %#x != %#x", when, (void *)b->p,
        b->kind, b->n, b->len, i, b->p[i], pb(b->seed, i));
}
/* Which bytes carry the pattern: all of a block up to 256 KiB; of a bigger
 * one the first and last 64 KiB and 64 bytes at every 64 KiB in between
 * (touching every page of multi-MiB blocks made executions 20x slower; the
 * soak test checks big blocks in full). */
#define FULL_MAX (256 << 10)
#define EDGE (64 << 10)
NOCOV static void fill_block(unsigned char *p, size_t len, uint64_t seed) {
    if (len <= FULL_MAX) { fill_range(p, 0, len, seed); return; }
    fill_range(p, 0, EDGE, seed);
    for (size_t off = EDGE; off < len - EDGE; off += EDGE) fill_range(p, off, off + 64 < len - EDGE ? off + 64 : len - EDGE, seed);
    fill_range(p, len - EDGE, len, seed);
}
/* the pattern bytes of b (filled at b->len) below upto */
NOCOV static void verify_block(const blk *b, size_t upto, const char *when) {
    size_t len = b->len;
    if (upto > len) upto = len;
    if (len <= FULL_MAX) { check_range(b, 0, upto, when); return; }
#define CLIP(x) ((x) < upto ? (x) : upto)
    check_range(b, 0, CLIP(EDGE), when);
    for (size_t off = EDGE; off < len - EDGE && off < upto; off += EDGE)
        check_range(b, off, CLIP(off + 64 < len - EDGE ? off + 64 : len - EDGE), when);
    if (len - EDGE < upto) check_range(b, len - EDGE, upto, when);
#undef CLIP
}
NOCOV static size_t first_nonzero(const unsigned char *p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        if (*(const u64u *)(p + i)) break;
    }
    for (; i < n; i++)
        if (p[i]) return i;
    return (size_t)-1;
}

static inline uint8_t g8(tstate *t) { return t->i < t->n ? t->d[t->i++] : 0; }
static inline uint16_t g16(tstate *t) { return (uint16_t)(g8(t) | g8(t) << 8); }
static inline uint32_t g24(tstate *t) { return (uint32_t)g16(t) | (uint32_t)g8(t) << 16; }

static const size_t edges[] = {0,        1,         8,         15,        16,        17,       127,
                               128,      1024,      1025,      4096,      32768,     32769,    65536,
                               131072,   262144,    1 << 20,   (1 << 20) + 1, 2 << 20, 4 << 20, (4 << 20) + 1};

static size_t gsize(tstate *t) {
    uint8_t c = g8(t);
    size_t n;
    switch (c % 16) {
    case 0: n = g8(t) % 17; break;
    case 1: case 2: case 3: case 4: case 5: n = g16(t) % 1024 + 1; break;
    case 6: case 7: case 8: n = 1024 + g16(t) % (31 << 10); break;
    case 9: case 10: n = (32 << 10) + g24(t) % (1 << 20); break;
    case 11: n = (1 << 20) + (size_t)g24(t) % (3 << 20); break;
    default: {
        size_t e = edges[g8(t) % (sizeof edges / sizeof edges[0])];
        int d = (int)(g8(t) % 9) - 4;
        n = (d < 0 && (size_t)-d > e) ? 0 : e + d;
    }
    }
    if (atomic_load_explicit(&live, memory_order_relaxed) + (long)n > LIVE_CAP) n %= 4096;
    return n;
}
static size_t galign(tstate *t) {
    uint8_t a = g8(t);
    return (size_t)1 << (a % 64 < 60 ? a % 17 : 17 + a % 6); /* 1 B..64 KiB, sometimes ..4 MiB */
}

static void take_new(tstate *t, blk *b, unsigned char *p, size_t n, size_t align, int kind) {
    if (!p) DIE("allocation kind %d of %zu bytes (alignment %zu) returned NULL, errno %d", kind, n, align, errno);
    if (align > 1 && ((uintptr_t)p & (align - 1))) DIE("kind %d: %p not aligned to %zu", kind, (void *)p, align);
    if ((kind == K_MALLOC || kind == K_CALLOC || kind == K_REALLOC) && n >= 16 && ((uintptr_t)p & 15))
        DIE("kind %d: %p (size %zu) not 16-byte aligned", kind, (void *)p, n);
    if (kind == K_CALLOC) {
        size_t z = first_nonzero(p, n);
        if (z != (size_t)-1) DIE("calloc(%zu) byte %zu = %#x, not zero", n, z, p[z]);
    }
    b->p = p;
    b->n = b->len = n;
    b->align = align;
    b->kind = kind;
    b->seed = mix((uintptr_t)p ^ (n << 20) ^ ++t->ctr) | 1;
    fill_block(p, n, b->seed);
    atomic_fetch_add(&live, (long)n);
}

static void release(blk *b, int how) {
    if (!b->p) return;
    verify_block(b, b->len, "before free");
    atomic_fetch_sub(&live, (long)b->n);
    if (how && b->kind == K_ALIGNED && p_free_aligned_sized) p_free_aligned_sized(b->p, b->align, b->n);
    else if (how && (b->kind == K_MALLOC || b->kind == K_CALLOC || b->kind == K_REALLOC) && p_free_sized)
        p_free_sized(b->p, b->n);
    else free(b->p);
    b->p = NULL;
}

static void do_realloc(blk *b, size_t m) {
    verify_block(b, b->len, "before realloc");
    errno = 0;
    unsigned char *q = realloc(b->p, m);
    if (m == 0) { /* glibc and hakmem free and return NULL; others may return a block */
        atomic_fetch_sub(&live, (long)b->n);
        b->p = NULL;
        if (q) free(q);
        return;
    }
    if (!q) DIE("realloc(%p, %zu -> %zu) returned NULL, errno %d", (void *)b->p, b->n, m, errno);
    if (m >= 16 && ((uintptr_t)q & 15)) DIE("realloc result %p not 16-byte aligned", (void *)q);
    size_t keep = m < b->n ? m : b->n;
    unsigned char *old = b->p;
    b->p = q;
    verify_block(b, keep, "after realloc (preserved prefix)");
    (void)old;
    fill_block(q, m, b->seed);
    atomic_fetch_add(&live, (long)m - (long)b->n);
    b->n = b->len = m;
    b->kind = K_REALLOC;
}

static void step(tstate *t) {
    uint8_t op = g8(t);
    blk *b = &t->slot[g8(t) % NSLOT];
    switch (op % 16) {
    case 0: { /* malloc */
        size_t n = gsize(t);
        release(b, 0);
        errno = 0;
        take_new(t, b, malloc(n), n, 0, K_MALLOC);
        break;
    }
    case 1: { /* calloc */
        size_t n = gsize(t), m = 1 + g8(t) % 16;
        release(b, 0);
        n /= m;
        errno = 0;
        take_new(t, b, calloc(n, m), n * m, 0, K_CALLOC);
        break;
    }
    case 2: /* realloc (from NULL when the slot is empty) */
        if (b->p) do_realloc(b, gsize(t) | 1);
        else { size_t n = gsize(t); errno = 0; take_new(t, b, realloc(NULL, n), n, 0, K_REALLOC); }
        break;
    case 3: { /* reallocarray */
        size_t n = gsize(t), m = 1 + g8(t) % 8;
        if (!b->p) break;
        n = n / m ? n / m : 1;
        verify_block(b, b->len, "before reallocarray");
        errno = 0;
        unsigned char *q = reallocarray(b->p, n, m);
        if (!q) DIE("reallocarray(%zu, %zu) returned NULL, errno %d", n, m, errno);
        size_t keep = n * m < b->n ? n * m : b->n;
        b->p = q;
        verify_block(b, keep, "after reallocarray");
        fill_block(q, n * m, b->seed);
        atomic_fetch_add(&live, (long)(n * m) - (long)b->n);
        b->n = b->len = n * m;
        b->kind = K_REALLOC;
        break;
    }
    case 4: { /* aligned_alloc */
        size_t a = galign(t), n = gsize(t);
        if (g8(t) & 1) n = (n + a - 1) & ~(a - 1);
        release(b, 0);
        errno = 0;
        take_new(t, b, aligned_alloc(a, n), n, a, K_ALIGNED);
        break;
    }
    case 5: { /* posix_memalign, with invalid alignments now and then */
        size_t a = galign(t), n = gsize(t);
        uint8_t bad = g8(t);
        release(b, 0);
        if (bad % 8 == 0) {
            size_t ba = (bad & 16) ? a + 8 * (1 + bad % 3) : (size_t)(bad % 2 ? 4 : 2); /* not a power of two, or < sizeof(void*) */
            if (ba & (ba - 1) || ba < sizeof(void *)) {
                void *sentinel = (void *)0x7777, *q = sentinel;
                int rc = posix_memalign(&q, ba, n);
                if (rc != EINVAL) DIE("posix_memalign(align %zu) = %d, expected EINVAL", ba, rc);
                if (q != sentinel) DIE("posix_memalign modified memptr on failure");
                break;
            }
        }
        void *q = NULL;
        int rc = posix_memalign(&q, a < sizeof(void *) ? sizeof(void *) : a, n);
        if (rc) DIE("posix_memalign(%zu, %zu) = %d", a, n, rc);
        take_new(t, b, q, n, a < sizeof(void *) ? sizeof(void *) : a, K_PMA);
        break;
    }
    case 6: { /* memalign */
        size_t a = galign(t), n = gsize(t);
        release(b, 0);
        errno = 0;
        take_new(t, b, memalign(a, n), n, a, K_MEMALIGN);
        break;
    }
    case 7: /* malloc_usable_size: >= size, and the whole usable size is writable */
        if (b->p) {
            size_t u = malloc_usable_size(b->p);
            if (u < b->n) DIE("malloc_usable_size(%p) = %zu < size %zu", (void *)b->p, u, b->n);
            if (u > b->len) { verify_block(b, b->len, "before filling the usable size"); fill_block(b->p, u, b->seed); b->len = u; }
        } else if (malloc_usable_size(NULL) != 0) {
            DIE("malloc_usable_size(NULL) != 0");
        }
        break;
    case 8: release(b, 0); break;
    case 9: release(b, 1); break; /* free_sized / free_aligned_sized when exported */
    case 10: /* give to another thread */
        if (b->p) {
            blk *x = malloc(sizeof *x);
            if (!x) DIE("malloc(blk)");
            *x = *b;
            b->p = NULL;
            x = atomic_exchange(&xch[g8(t) % NX], x);
            if (x) { release(x, g8(t) & 1); free(x); }
        }
        break;
    case 11: { /* take from another thread */
        blk *x = atomic_exchange(&xch[g8(t) % NX], NULL);
        if (x) {
            verify_block(x, x->len, "taken from exchange");
            if (!b->p) *b = *x;
            else release(x, 0);
            free(x);
        }
        break;
    }
    case 12: /* verify all */
        for (int i = 0; i < NSLOT; i++) if (t->slot[i].p) verify_block(&t->slot[i], t->slot[i].len, "verify-all");
        break;
    case 13: /* zero sizes */
        if (b->p && (g8(t) & 1)) { do_realloc(b, 0); break; }
        release(b, 0);
        errno = 0;
        take_new(t, b, malloc(0), 0, 0, K_MALLOC);
        break;
    case 14: { /* impossible requests: NULL + ENOMEM, old block intact */
        uint8_t w = g8(t);
        size_t huge = SIZE_MAX - (size_t)g16(t);
        void *volatile q;
        errno = 0;
        switch (w % 5) {
        case 0: q = malloc(huge); break;
        case 1: q = calloc(huge / 2 + 1, 2 + w % 7); break;
        case 2: q = b->p ? realloc(b->p, huge) : malloc(huge); break;
        case 3: q = b->p ? reallocarray(b->p, huge / 3, 4) : calloc(1, huge); break;
        default: q = aligned_alloc(64, huge & ~(size_t)63); break;
        }
        if (q) DIE("impossible request %d returned %p", w % 5, q);
        if (errno != ENOMEM) DIE("impossible request %d: errno %d, expected ENOMEM", w % 5, errno);
        if (b->p) verify_block(b, b->len, "after failed realloc");
        break;
    }
    case 15: { /* realloc chain: grow and shrink the same block */
        if (!b->p) { size_t n = gsize(t); errno = 0; take_new(t, b, malloc(n), n, 0, K_MALLOC); }
        int k = 1 + g8(t) % 6;
        for (int i = 0; i < k; i++) do_realloc(b, (gsize(t) | 1));
        break;
    }
    }
}

static void *run_thread(void *arg) {
    tstate *t = arg;
    for (int steps = 0; t->i < t->n && steps < 4096; steps++) step(t);
    /* free half now (by the owner), the rest later on the main thread */
    for (int i = 0; i < NSLOT; i += 2) release(&t->slot[i], i & 2);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pthread_once(&once, init_syms);
    if (size < 2) return 0;
    int nt = 2 + data[0] % 3;
    data++, size--;
    tstate ts[MAXT];
    memset(ts, 0, sizeof ts);
    size_t chunk = size / nt;
    for (int i = 0; i < nt; i++) {
        ts[i].d = data + i * chunk;
        ts[i].n = i == nt - 1 ? size - i * chunk : chunk;
        ts[i].ctr = (uint64_t)i << 40;
    }
    pthread_t th[MAXT];
    int started[MAXT] = {0};
    for (int i = 1; i < nt; i++) started[i] = pthread_create(&th[i], NULL, run_thread, &ts[i]) == 0;
    run_thread(&ts[0]);
    for (int i = 1; i < nt; i++) {
        if (started[i]) pthread_join(th[i], NULL);
        else run_thread(&ts[i]);
    }
    for (int i = 0; i < nt; i++)
        for (int j = 0; j < NSLOT; j++) release(&ts[i].slot[j], j & 1);
    for (int j = 0; j < NX; j++) {
        blk *x = atomic_exchange(&xch[j], NULL);
        if (x) { release(x, 0); free(x); }
    }
    if (atomic_load(&live) != 0) DIE("live byte count %ld after freeing everything", atomic_load(&live));
    return 0;
}
