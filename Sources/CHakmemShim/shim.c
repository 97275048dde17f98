// shim.c -- definitions behind hakmem_shim.h: TLS slots, the segment map, and
// syscall glue that needs _GNU_SOURCE or libc details Swift should not see.
#define _GNU_SOURCE
#include "hakmem_shim.h"
#include <sched.h>
#include <fcntl.h>
#include <sys/random.h>
#include <string.h>

unsigned char hak_empty_bin[256] HAK_HIDDEN __attribute__((aligned(64)));
unsigned char hak_segmap[HAK_SEGMAP_ENTRIES] HAK_HIDDEN __attribute__((aligned(4096)));

__thread void *_Nullable hak_tls_direct[HAK_DIRECT_SLOTS] HAK_IE = {
    [0 ... HAK_DIRECT_SLOTS - 1] = hak_empty_bin,
};
__thread void *_Nullable hak_tls_heap HAK_IE = NULL;
__thread uintptr_t hak_tls_site HAK_IE = 0;

void *hak_os_mremap(void *old, size_t old_size, size_t new_size, int flags, void *new_address) {
    int f = 0;
    if (flags & HAK_MREMAP_MAYMOVE) f |= MREMAP_MAYMOVE;
    if (flags & HAK_MREMAP_FIXED) f |= MREMAP_FIXED;
    void *p = mremap(old, old_size, new_size, f, new_address);
    return p == MAP_FAILED ? NULL : p;
}

static uint64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t hak_os_now_ns(void) { return clock_ns(CLOCK_MONOTONIC_COARSE); }

uint64_t hak_os_precise_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

void hak_os_random(void *buf, size_t n) {
    if (getrandom(buf, n, GRND_NONBLOCK) == (ssize_t)n) return;
    // Fallback: mix the clock and an address (ASLR); good enough for a cookie.
    uint64_t x = hak_os_now_ns() ^ (uint64_t)(uintptr_t)buf ^ 0x9e3779b97f4a7c15ull;
    unsigned char *out = buf;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        out[i] = (unsigned char)x;
    }
}

void hak_os_write_stderr(const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(2, p, n);
        if (w < 0) { if (errno == EINTR) continue; return; }
        p += w; n -= (size_t)w;
    }
}

// The environment before libc has set `environ` (hakmem can start from a
// .preinit_array malloc): the initial environment, read once from
// /proc/self/environ into static storage. Start-up is serialised by the caller.
static char early_env_text[64 * 1024];
static char *early_env[1024];
static int early_env_loaded;

static char **early_environment(void) {
    if (!early_env_loaded) {
        early_env_loaded = 1;
        int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            size_t used = 0;
            ssize_t n;
            while (used < sizeof early_env_text - 1 &&
                   (n = read(fd, early_env_text + used, sizeof early_env_text - 1 - used)) > 0)
                used += (size_t)n;
            close(fd);
            early_env_text[used] = 0;
            size_t count = 0;
            for (size_t i = 0; i < used && count < sizeof early_env / sizeof early_env[0] - 1;) {
                early_env[count++] = early_env_text + i;
                i += strlen(early_env_text + i) + 1;
            }
            early_env[count] = NULL;
        }
    }
    return early_env;
}

extern char **environ;
char **hak_os_environ(void) { return environ != NULL ? environ : early_environment(); }

const char *hak_os_getenv(const char *name) {
    if (environ != NULL) return getenv(name);
    size_t len = strlen(name);
    for (char **e = early_environment(); *e != NULL; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
    return NULL;
}

void hak_os_yield(void) { sched_yield(); }

size_t hak_os_peak_rss(void) {
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    const char *p = strstr(buf, "VmHWM:");
    if (p == NULL) return 0;
    p += 6;
    while (*p == ' ' || *p == '\t') p++;
    size_t kb = 0;
    while (*p >= '0' && *p <= '9') kb = kb * 10 + (size_t)(*p++ - '0');
    return kb * 1024;
}

void hak_os_atexit(void (*fn)(void)) { atexit(fn); }
