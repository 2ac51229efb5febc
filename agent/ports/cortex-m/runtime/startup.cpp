// Reset and exception vectors for the QEMU programs: copies .data, zeroes .bss, runs the static
// constructors (the C ABI's agent has one), calls main and hands its result to QEMU as the exit
// status. A fault ends the run with a message instead of hanging until the timeout.
#include <cstdint>

#include "semihost.hpp"

extern "C" {
extern uint32_t __data_start[];
extern uint32_t __data_end[];
extern const uint32_t __data_load[];
extern uint32_t __bss_start[];
extern uint32_t __bss_end[];
extern void (*const __init_array_start[])();
extern void (*const __init_array_end[])();
extern uint32_t __stack_top[];

int main();
void Reset_Handler();
void SysTick_Handler();
}

namespace {

[[noreturn]] void fault(const char* what) {
    vigil::semihost::write("FAIL ");
    vigil::semihost::write(what);
    vigil::semihost::write("\n");
    vigil::semihost::exit(2);
}

void hard_fault() {
    fault("hard fault");
}
void unexpected_exception() {
    fault("unexpected exception");
}

using Vector = void (*)();

}  // namespace

extern "C" {

// Weak so a program without a timer interrupt needs no handler.
__attribute__((weak)) void SysTick_Handler() {
    unexpected_exception();
}

void Reset_Handler() {
    // Volatile so the compiler keeps these as loops: a memcpy/memset taken from a C library
    // could itself depend on .data or .bss, which do not exist yet.
    const volatile uint32_t* from = __data_load;
    for (volatile uint32_t* to = __data_start; to < __data_end;) {
        *to++ = *from++;
    }
    for (volatile uint32_t* to = __bss_start; to < __bss_end;) {
        *to++ = 0;
    }
    for (auto constructor = __init_array_start; constructor < __init_array_end; ++constructor) {
        (*constructor)();
    }
    vigil::semihost::exit(main());
}

// Cortex-M3: initial stack pointer, then the 15 system exceptions. No device interrupts are
// used, so the table stops there.
__attribute__((section(".vectors"), used)) const Vector g_vectors[16] = {
    reinterpret_cast<Vector>(__stack_top),
    Reset_Handler,
    unexpected_exception,  // NMI
    hard_fault,
    hard_fault,  // MemManage
    hard_fault,  // BusFault
    hard_fault,  // UsageFault
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    unexpected_exception,  // SVCall
    unexpected_exception,  // DebugMonitor
    nullptr,
    unexpected_exception,  // PendSV
    SysTick_Handler,
};

}  // extern "C"
