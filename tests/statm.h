/*
 * statm.h - resident and virtual size of the calling process in MiB, from
 * /proc/self/statm (-1 if it cannot be read). Shared by the preload tests
 * (through check.h) and the reliability programs.
 */
#ifndef HAKMEM_TEST_STATM_H
#define HAKMEM_TEST_STATM_H

#include <stdio.h>
#include <unistd.h>

/* /proc/self/statm: field 0 = VM size, field 1 = resident, in pages. */
static inline long statm_field_mib(int field) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long v[2] = {0, 0};
    int ok = fscanf(f, "%ld %ld", &v[0], &v[1]);
    fclose(f);
    if (ok != 2) return -1;
    return v[field] * (sysconf(_SC_PAGESIZE) / 1024) / 1024;
}
static inline long rss_mib(void) { return statm_field_mib(1); }
static inline long vm_mib(void) { return statm_field_mib(0); }

#endif
