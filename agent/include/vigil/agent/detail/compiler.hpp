// Hints for the packet hook's hot path; empty on compilers that do not know them.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#if defined(__OPTIMIZE_SIZE__)
// Built for size (-Os): the compiler decides, since forcing the packet path's lookups inline
// copies them once per address family.
#define VIGIL_ALWAYS_INLINE inline
#else
#define VIGIL_ALWAYS_INLINE inline __attribute__((always_inline))
#endif
#define VIGIL_NOINLINE __attribute__((noinline))
#define VIGIL_LIKELY(x) __builtin_expect(!!(x), 1)
#define VIGIL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define VIGIL_ALWAYS_INLINE inline
#define VIGIL_NOINLINE
#define VIGIL_LIKELY(x) (x)
#define VIGIL_UNLIKELY(x) (x)
#endif
