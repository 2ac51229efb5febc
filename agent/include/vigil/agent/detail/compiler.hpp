// Hints for the packet hook's hot path; empty on compilers that do not know them.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define VIGIL_ALWAYS_INLINE inline __attribute__((always_inline))
#define VIGIL_NOINLINE __attribute__((noinline))
#define VIGIL_LIKELY(x) __builtin_expect(!!(x), 1)
#define VIGIL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define VIGIL_ALWAYS_INLINE inline
#define VIGIL_NOINLINE
#define VIGIL_LIKELY(x) (x)
#define VIGIL_UNLIKELY(x) (x)
#endif
