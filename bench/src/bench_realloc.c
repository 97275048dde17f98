/*
 * bench_realloc - growing strings and vectors with content verification.
 *
 * Usage: bench_realloc <objects> <rounds> <seed> [step_max] [double_max]
 *
 * <objects> objects are alive at the same time; even-numbered ones are
 * "strings" that grow by +16 bytes per realloc up to step_max (default
 * 4096), odd-numbered ones are "vectors" that grow by doubling (16, 32, ...)
 * up to double_max (default 65536).  Each step picks a random object that
 * still has lifecycles left and grows it with realloc(), filling the new
 * bytes with 64-bit words derived from (object, lifecycle, offset) and
 * checking that the first and the last previously written word survived the
 * move.
 * When an object reaches its maximum its whole content is verified, it is
 * freed and starts again from a 16-byte malloc; each object lives <rounds>
 * lifecycles.  One operation = one realloc() call.  Any corruption prints
 * an error on stderr and exits with status 4.
 *
 * Output:
 *   Throughput = <N> reallocs/s objects=<o> rounds=<r> ops=<n> verified_mb=<mb> time=<s>s peak_rss_kb=<kb>
 *   allocator=<path>
 */
#include "bench_common.h"

typedef struct {
    unsigned char *p; /* size is always a multiple of 16 */
    size_t size;
    unsigned life;   /* lifecycles completed */
    unsigned id;
} obj_t;

/* content: 64-bit words derived from (object, lifecycle, word index);
 * all sizes are multiples of 16, so objects are whole words */
static inline uint64_t pat(unsigned id, unsigned life, size_t word)
{
    uint64_t x = ((uint64_t)id << 40) ^ ((uint64_t)life << 32) ^ (uint64_t)word;
    return x * 0x9E3779B97F4A7C15ull;
}

static void fill(obj_t *o, size_t from, size_t to)
{
    uint64_t *w = (uint64_t *)o->p;
    for (size_t i = from / 8; i < to / 8; i++)
        w[i] = pat(o->id, o->life, i);
}

static void corrupt(obj_t *o, size_t off, const char *where)
{
    fprintf(stderr, "error: content mismatch (%s) object=%u life=%u size=%zu offset=%zu\n", where,
            o->id, o->life, o->size, off);
    exit(4);
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s <objects> <rounds> <seed> [step_max] [double_max]\n", argv[0]);
        return 2;
    }
    size_t nobj = parse_ul(argv[1], "objects");
    unsigned rounds = (unsigned)parse_ul(argv[2], "rounds");
    uint64_t seed = parse_ul(argv[3], "seed");
    size_t step_max = argc > 4 ? parse_ul(argv[4], "step_max") : 4096;
    size_t double_max = argc > 5 ? parse_ul(argv[5], "double_max") : 65536;
    if (nobj == 0 || rounds == 0 || step_max < 32 || double_max < 32) {
        fprintf(stderr, "invalid arguments\n");
        return 2;
    }
    obj_t *objs = calloc(nobj, sizeof *objs);
    size_t *active = malloc(nobj * sizeof *active);
    if (!objs || !active)
        die("out of memory");
    rng_t r;
    rng_seed(&r, seed);

    uint64_t t0 = now_ns();
    for (size_t i = 0; i < nobj; i++) {
        objs[i].id = (unsigned)i;
        objs[i].size = 16;
        objs[i].p = malloc(16);
        if (!objs[i].p)
            die("malloc returned NULL");
        fill(&objs[i], 0, 16);
        active[i] = i;
    }
    size_t nactive = nobj;
    uint64_t ops = 0, verified = 0;
    while (nactive) {
        size_t ai = (size_t)rng_below(&r, nactive);
        obj_t *o = &objs[active[ai]];
        int doubling = o->id & 1;
        size_t old = o->size;
        size_t nsz = doubling ? old * 2 : old + 16;
        unsigned char *np = realloc(o->p, nsz);
        if (!np)
            die("realloc returned NULL");
        ops++;
        o->p = np;
        if (((uint64_t *)np)[0] != pat(o->id, o->life, 0))
            corrupt(o, 0, "first word after realloc");
        if (((uint64_t *)np)[old / 8 - 1] != pat(o->id, o->life, old / 8 - 1))
            corrupt(o, old - 8, "last word after realloc");
        fill(o, old, nsz);
        o->size = nsz;
        if (nsz >= (doubling ? double_max : step_max)) {
            const uint64_t *w = (const uint64_t *)o->p;
            for (size_t k = 0; k < nsz / 8; k++)
                if (w[k] != pat(o->id, o->life, k))
                    corrupt(o, k * 8, "full verify");
            verified += nsz;
            free(o->p);
            o->p = NULL;
            o->life++;
            if (o->life >= rounds) {
                active[ai] = active[--nactive];
            } else {
                o->size = 16;
                o->p = malloc(16);
                if (!o->p)
                    die("malloc returned NULL");
                fill(o, 0, 16);
            }
        }
    }
    uint64_t t1 = now_ns();
    free(active);
    free(objs);
    double secs = (double)(t1 - t0) * 1e-9;
    printf("Throughput = %.0f reallocs/s objects=%zu rounds=%u ops=%" PRIu64
           " verified_mb=%.1f time=%.4fs peak_rss_kb=%ld\n",
           secs > 0 ? (double)ops / secs : 0.0, nobj, rounds, ops, (double)verified / 1048576.0,
           secs, peak_rss_kb());
    print_allocator();
    return 0;
}
