/*
 * driver.c - stand-alone main for fuzz_malloc.c when libFuzzer is not
 * available (and a deterministic seeded mode in any case).
 *
 *   driver FILE...                    run each file once as an input (replay)
 *   driver -gen SECONDS SEED WORKDIR  generate inputs from a seeded xorshift
 *                                     for SECONDS; before each one the input
 *                                     is written to WORKDIR/current, so if
 *                                     the process dies the script can save it
 *                                     as a regression. Prints the execution
 *                                     count.
 * Mutation without coverage feedback: random lengths (1..4 KiB), and inputs
 * spliced from earlier ones half the time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t s;
static uint64_t rnd(void) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    return s;
}
static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc >= 5 && !strcmp(argv[1], "-gen")) {
        double secs = atof(argv[2]);
        s = strtoull(argv[3], NULL, 0) * 0x9E3779B97F4A7C15ULL | 1;
        char path[4096];
        snprintf(path, sizeof path, "%s/current", argv[4]);
        static uint8_t prev[4096], buf[4096];
        size_t prevn = 0;
        long execs = 0;
        double t0 = now_s();
        while (now_s() - t0 < secs && execs < 100000000) {
            size_t n = 1 + rnd() % sizeof buf;
            for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)rnd();
            if (prevn && (rnd() & 1)) { /* splice a piece of the previous input */
                size_t off = rnd() % prevn, len = rnd() % (prevn - off) + 1, at = rnd() % n;
                if (at + len > n) len = n - at;
                memcpy(buf + at, prev + off, len);
            }
            FILE *f = fopen(path, "wb");
            if (f) { fwrite(buf, 1, n, f); fclose(f); }
            LLVMFuzzerTestOneInput(buf, n);
            memcpy(prev, buf, n);
            prevn = n;
            execs++;
        }
        remove(path);
        printf("driver: executions %ld in %.1f s\n", execs, now_s() - t0);
        return 0;
    }
    int ran = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { fprintf(stderr, "driver: cannot open %s\n", argv[i]); return 2; }
        static uint8_t data[1 << 20];
        size_t n = fread(data, 1, sizeof data, f);
        fclose(f);
        LLVMFuzzerTestOneInput(data, n);
        ran++;
    }
    printf("driver: replayed %d inputs\n", ran);
    return 0;
}
