#include <cblas.h>

/// Asks the CPU to start loading the cache line at p (the row kernels' gathers).
static inline void quarry_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
