/*
 * bench_calloc_aligned - calloc (zeroing checked) and aligned allocation
 * (alignment checked) mixed with frees.
 *
 * Usage: bench_calloc_aligned <iterations> <working_set> <seed> [max_size]
 *
 * <working_set> slots, initially empty.  Each step picks a random slot; an
 * occupied slot is freed, an empty one receives one of (equal odds):
 *   - calloc(n, elem) with elem in {1,2,4,8,16,24,32,64}, total size in
 *     [1, max_size] (default 8192);  every byte is checked to be zero, then
 *     the block is filled with non-zero bytes so that memory recycled by a
 *     later calloc must really be re-zeroed;
 *   - posix_memalign(&p, align, size);
 *   - aligned_alloc(align, size) with size rounded up to a multiple of align;
 *   align a power of two in [16, 4096], size in [1, max_size]; the address is
 *   checked to be a multiple of align, and the block is written (first and
 *   last byte, one byte per 4 KiB page).
 * One step = one operation.  Any failed check prints an error on stderr and
 * exits with status 4 (errors= is always 0 in a printed result).
 *
 * Output:
 *   Throughput = <N> ops/s iter=<i> ws=<w> callocs=<c> aligned=<a> errors=0 time=<s>s peak_rss_kb=<kb>
 *   allocator=<path>
 */
#include "bench_common.h"

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s <iterations> <working_set> <seed> [max_size]\n", argv[0]);
        return 2;
    }
    uint64_t iters = parse_ul(argv[1], "iterations");
    size_t ws = parse_ul(argv[2], "working_set");
    uint64_t seed = parse_ul(argv[3], "seed");
    size_t maxsz = argc == 5 ? parse_ul(argv[4], "max_size") : 8192;
    if (ws == 0 || maxsz == 0) {
        fprintf(stderr, "invalid arguments\n");
        return 2;
    }
    static const size_t elems[] = { 1, 2, 4, 8, 16, 24, 32, 64 };
    void **slots = calloc(ws, sizeof(void *));
    if (!slots)
        die("out of memory");
    rng_t r;
    rng_seed(&r, seed);
    uint64_t ncalloc = 0, naligned = 0;

    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        size_t s = (size_t)rng_below(&r, ws);
        if (slots[s]) {
            free(slots[s]);
            slots[s] = NULL;
            continue;
        }
        unsigned kind = (unsigned)rng_below(&r, 3);
        unsigned char *p = NULL;
        size_t sz;
        if (kind == 0) {
            size_t elem = elems[rng_below(&r, sizeof elems / sizeof elems[0])];
            size_t n = (size_t)rng_range(&r, 1, maxsz / elem ? maxsz / elem : 1);
            sz = n * elem;
            p = calloc(n, elem);
            if (!p)
                die("calloc returned NULL");
            for (size_t k = 0; k < sz; k++) {
                if (p[k] != 0) {
                    fprintf(stderr, "error: calloc(%zu,%zu) byte %zu is 0x%02x, not zero\n", n, elem, k,
                            p[k]);
                    return 4;
                }
            }
            memset(p, 0xA5, sz);
            ncalloc++;
        } else {
            size_t align = (size_t)16 << rng_below(&r, 9); /* 16 .. 4096 */
            sz = (size_t)rng_range(&r, 1, maxsz);
            if (kind == 1) {
                void *q = NULL;
                int rc = posix_memalign(&q, align, sz);
                if (rc != 0 || !q) {
                    fprintf(stderr, "error: posix_memalign(%zu, %zu) failed rc=%d\n", align, sz, rc);
                    return 4;
                }
                p = q;
            } else {
                sz = (sz + align - 1) / align * align;
                p = aligned_alloc(align, sz);
                if (!p) {
                    fprintf(stderr, "error: aligned_alloc(%zu, %zu) returned NULL\n", align, sz);
                    return 4;
                }
            }
            if ((uintptr_t)p % align != 0) {
                fprintf(stderr, "error: %s(align=%zu, size=%zu) returned %p (misaligned)\n",
                        kind == 1 ? "posix_memalign" : "aligned_alloc", align, sz, (void *)p);
                return 4;
            }
            for (size_t off = 0; off < sz; off += 4096)
                p[off] = 0x5A;
            p[sz - 1] = 0x5A;
            naligned++;
        }
        slots[s] = p;
    }
    uint64_t t1 = now_ns();
    for (size_t s = 0; s < ws; s++)
        free(slots[s]);
    free(slots);
    double secs = (double)(t1 - t0) * 1e-9;
    printf("Throughput = %.0f ops/s iter=%" PRIu64 " ws=%zu callocs=%" PRIu64 " aligned=%" PRIu64
           " errors=0 time=%.4fs peak_rss_kb=%ld\n",
           secs > 0 ? (double)iters / secs : 0.0, iters, ws, ncalloc, naligned, secs, peak_rss_kb());
    print_allocator();
    return 0;
}
