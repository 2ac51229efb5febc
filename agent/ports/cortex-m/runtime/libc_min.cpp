// The four C library functions GCC calls for struct copies, zeroing and __builtin_mem* even
// with -ffreestanding. They are written here rather than linked from newlib-nano so the images
// link with -nostdlib: nothing else of a C library (abort, _sbrk, the syscall stubs) can creep
// into the agent's footprint unnoticed, and the size report has no libc to subtract. Byte loops,
// as newlib-nano's own size-optimised versions are; the agent copies a few hundred bytes per
// collection at most. Built with -fno-tree-loop-distribute-patterns so GCC does not turn these
// loops back into calls to themselves.
#include <cstddef>
#include <cstdint>

extern "C" {

void* memcpy(void* destination, const void* source, size_t count) {
    auto* to = static_cast<uint8_t*>(destination);
    const auto* from = static_cast<const uint8_t*>(source);
    while (count-- > 0) {
        *to++ = *from++;
    }
    return destination;
}

void* memmove(void* destination, const void* source, size_t count) {
    auto* to = static_cast<uint8_t*>(destination);
    const auto* from = static_cast<const uint8_t*>(source);
    if (to < from) {
        while (count-- > 0) {
            *to++ = *from++;
        }
    } else {
        while (count-- > 0) {
            to[count] = from[count];
        }
    }
    return destination;
}

void* memset(void* destination, int value, size_t count) {
    auto* to = static_cast<uint8_t*>(destination);
    while (count-- > 0) {
        *to++ = static_cast<uint8_t>(value);
    }
    return destination;
}

int memcmp(const void* a, const void* b, size_t count) {
    const auto* x = static_cast<const uint8_t*>(a);
    const auto* y = static_cast<const uint8_t*>(b);
    for (; count > 0; --count, ++x, ++y) {
        if (*x != *y) {
            return *x < *y ? -1 : 1;
        }
    }
    return 0;
}

}  // extern "C"
