/*
 * bench_tiny_pairs - N malloc(size)+free pairs in a tight loop.
 *
 * Usage: bench_tiny_pairs <N> [size]        (size defaults to 64)
 *
 * Each iteration does p = malloc(size); writes one byte; passes p through
 * an opaque sink (an empty asm statement the compiler must assume reads it);
 * free(p).  Meant for instruction counting:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=out.N1 ./bench_tiny_pairs N1
 *   valgrind --tool=callgrind --callgrind-out-file=out.N2 ./bench_tiny_pairs N2
 *   instructions per pair = (Ir(N2) - Ir(N1)) / (N2 - N1)
 *
 * Start-up, the first-call slow paths and the printing cancel out in the
 * difference, so the result is exact and repeatable.  Run natively it also
 * reports wall-clock ns per pair.
 *
 * Output:
 *   Pairs n=<N> size=<s> time=<s>s ns_per_pair=<ns> ops_per_sec=<ops>
 *   allocator=<path>
 */
#include "bench_common.h"

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s <N> [size]\n", argv[0]);
        return 2;
    }
    uint64_t n = parse_ul(argv[1], "N");
    size_t size = argc == 3 ? parse_ul(argv[2], "size") : 64;
    if (size == 0)
        size = 1;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        unsigned char *p = malloc(size);
        if (__builtin_expect(p == NULL, 0))
            die("malloc returned NULL");
        p[0] = (unsigned char)i;
        sink_ptr(p);
        free(p);
    }
    uint64_t t1 = now_ns();
    double secs = (double)(t1 - t0) * 1e-9;
    printf("Pairs n=%" PRIu64 " size=%zu time=%.4fs ns_per_pair=%.2f ops_per_sec=%.0f\n", n, size,
           secs, n ? (double)(t1 - t0) / (double)n : 0.0, secs > 0 ? (double)n / secs : 0.0);
    print_allocator();
    return 0;
}
