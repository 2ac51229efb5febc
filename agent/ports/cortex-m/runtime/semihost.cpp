#include "semihost.hpp"

namespace vigil::semihost {

namespace {

constexpr uint32_t kSysWrite0 = 0x04;
constexpr uint32_t kSysExitExtended = 0x20;
constexpr uint32_t kApplicationExit = 0x20026;  // ADP_Stopped_ApplicationExit

uint32_t call(uint32_t operation, const void* argument) {
    // The M-profile semihosting trap is BKPT 0xAB: operation in r0, argument block in r1.
    register uint32_t r0 asm("r0") = operation;
    register const void* r1 asm("r1") = argument;
    asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

}  // namespace

void write(const char* text) {
    call(kSysWrite0, text);
}

void write_u64(uint64_t value) {
    char digits[21];
    size_t at = sizeof(digits) - 1;
    digits[at] = '\0';
    do {
        digits[--at] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    write(digits + at);
}

void exit(int status) {
    // Plain SYS_EXIT carries no status on 32-bit ARM; the extended call does.
    const uint32_t block[2] = {kApplicationExit, static_cast<uint32_t>(status)};
    for (;;) {
        call(kSysExitExtended, block);
    }
}

}  // namespace vigil::semihost
