#ifndef UNDERSTUDY_CJEMALLOC_SHIM_H
#define UNDERSTUDY_CJEMALLOC_SHIM_H
#include <stddef.h>
#include <stdint.h>
#include <jemalloc/jemalloc.h>

// jemalloc's statistics are a snapshot taken when "epoch" is written; without that, "stats.*"
// keeps answering with the figures of the last refresh.
static inline int understudy_heap_refresh(void) {
    uint64_t epoch = 1;
    size_t length = sizeof(epoch);
    return mallctl("epoch", &epoch, &length, &epoch, length);
}

// One size_t statistic ("stats.allocated", "stats.resident"); 0 on success, an errno otherwise.
static inline int understudy_heap_statistic(const char *name, size_t *value) {
    size_t length = sizeof(*value);
    return mallctl(name, value, &length, NULL, 0);
}
#endif
