#ifndef UNDERSTUDY_CJEMALLOC_SHIM_H
#define UNDERSTUDY_CJEMALLOC_SHIM_H
// Imported for its link line: jemalloc then binds ahead of the C library's malloc. Its statistics
// are read through `mallctl`, looked up at run time (Node's HeapStatistics).
#include <jemalloc/jemalloc.h>
#endif
