/*
 * bench_mem_efficiency - phase-changing workload: how much memory does the
 * allocator hold, and give back, across phases?
 *
 * Usage: bench_mem_efficiency <live_mb> <seed> [free_percent] [sleep_ms]
 *
 *   phase 1 (grow)  : allocate blocks until <live_mb> MiB are requested:
 *                     half of the bytes in small blocks (16..1024 B), half in
 *                     medium blocks (1 KiB..64 KiB), interleaved randomly;
 *                     every block is fully written (memset) so it is resident.
 *   phase 2 (free)  : free a random <free_percent>% (default 90) of the
 *                     blocks (each block independently), then sleep
 *                     <sleep_ms> (default 150) so that allocators that return
 *                     memory on a timer/decay can do so.  Nothing
 *                     allocator-specific is called.  RSS is sampled now:
 *                     rss_after_free_kb.
 *   phase 3 (regrow): allocate again up to <live_mb> MiB live, now with
 *                     different sizes (small 1025..4096 B and medium
 *                     64 KiB..256 KiB, half/half by bytes), fully written;
 *                     RSS sampled: rss_final_kb.  Then everything is freed.
 *   peak_rss_kb is VmHWM of the whole run.  Lower is better for all RSS
 *   numbers; time covers phases 1-3 excluding the sleep.
 *
 * Output:
 *   MemEff live_mb=<m> peak_rss_kb=<kb> rss_after_grow_kb=<kb> rss_after_free_kb=<kb> rss_final_kb=<kb> time=<s>s
 *   allocator=<path>
 */
#include "bench_common.h"

typedef struct {
    void **p;
    size_t *sz;
    size_t n, cap;
} vec_t;

static void vec_push(vec_t *v, void *p, size_t sz)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 4096;
        v->p = realloc(v->p, v->cap * sizeof(void *));
        v->sz = realloc(v->sz, v->cap * sizeof(size_t));
        if (!v->p || !v->sz)
            die("out of memory");
    }
    v->p[v->n] = p;
    v->sz[v->n] = sz;
    v->n++;
}

/* allocate until `live` (running byte count) reaches `target` */
static void grow(vec_t *v, rng_t *r, size_t *live, size_t target, size_t smin, size_t smax,
                 size_t mmin, size_t mmax)
{
    size_t small_bytes = 0, med_bytes = 0;
    while (*live < target) {
        /* keep small and medium byte volumes balanced, with random interleave */
        int small = (small_bytes <= med_bytes) ? (rng_below(r, 4) != 0) : (rng_below(r, 4) == 0);
        size_t sz = small ? (size_t)rng_range(r, smin, smax) : (size_t)rng_range(r, mmin, mmax);
        void *p = malloc(sz);
        if (!p)
            die("malloc returned NULL");
        memset(p, 0x3c, sz);
        vec_push(v, p, sz);
        *live += sz;
        if (small)
            small_bytes += sz;
        else
            med_bytes += sz;
    }
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s <live_mb> <seed> [free_percent] [sleep_ms]\n", argv[0]);
        return 2;
    }
    size_t live_mb = parse_ul(argv[1], "live_mb");
    uint64_t seed = parse_ul(argv[2], "seed");
    unsigned free_pct = argc > 3 ? (unsigned)parse_ul(argv[3], "free_percent") : 90;
    unsigned sleep_for = argc > 4 ? (unsigned)parse_ul(argv[4], "sleep_ms") : 150;
    if (live_mb == 0 || free_pct > 100) {
        fprintf(stderr, "invalid arguments\n");
        return 2;
    }
    size_t target = live_mb << 20;
    rng_t r;
    rng_seed(&r, seed);
    vec_t v = { 0 };
    size_t live = 0;

    uint64_t t0 = now_ns();
    grow(&v, &r, &live, target, 16, 1024, 1024, 65536);
    uint64_t t1 = now_ns();
    long rss_grow = cur_rss_kb();

    /* phase 2: free a random free_pct% of blocks, compact the survivors */
    size_t keep = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (rng_below(&r, 100) < free_pct) {
            free(v.p[i]);
            live -= v.sz[i];
        } else {
            v.p[keep] = v.p[i];
            v.sz[keep] = v.sz[i];
            keep++;
        }
    }
    v.n = keep;
    uint64_t t2 = now_ns();
    sleep_ms(sleep_for);
    long rss_free = cur_rss_kb();

    uint64_t t3 = now_ns();
    grow(&v, &r, &live, target, 1025, 4096, 65536, 262144);
    uint64_t t4 = now_ns();
    long rss_final = cur_rss_kb();
    long peak = peak_rss_kb();

    for (size_t i = 0; i < v.n; i++)
        free(v.p[i]);
    free(v.p);
    free(v.sz);

    double secs = (double)((t1 - t0) + (t2 - t1) + (t4 - t3)) * 1e-9;
    printf("MemEff live_mb=%zu peak_rss_kb=%ld rss_after_grow_kb=%ld rss_after_free_kb=%ld"
           " rss_final_kb=%ld time=%.4fs\n",
           live_mb, peak, rss_grow, rss_free, rss_final, secs);
    print_allocator();
    return 0;
}
