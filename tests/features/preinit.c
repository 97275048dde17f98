// preinit.c -- hakmem's first malloc runs from .preinit_array, before libc has set
// `environ` (as in libFuzzer and sanitizer binaries). The HAKMEM_* settings must
// still apply: run.sh checks the HAKMEM_VERBOSE banner and that HAKMEM_CHECK=1 turns
// on checked mode (the banner says so).
#include <stdlib.h>

static void early(int argc, char **argv, char **envp) {
    (void)argc; (void)argv; (void)envp;
    void *volatile p = malloc(24);
    free(p);
}
__attribute__((section(".preinit_array"), used)) static void (*const run_early)(int, char **, char **) = early;

int main(void) {
    void *volatile p = malloc(100);
    free(p);
    return 0;
}
