#include "vigil/ports/cortex_m.h"

namespace {

/// A 64-bit counter takes two loads and two stores on a 32-bit core; it is read and written with
/// interrupts masked so a timer interrupt never sees or leaves half of it.
volatile uint64_t g_now_ms = 0;

/// PRIMASK as the agent's enter_critical found it. One slot is enough: the agent never nests its
/// sections, and an interrupt cannot run between the mask and the store, nor between the load
/// and the unmask, so a handler's own enter/exit pair never overwrites a live value.
uint32_t g_saved_primask = 0;

inline uint32_t mask_interrupts() {
    uint32_t primask;
    asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    return primask;
}

inline void restore_interrupts(uint32_t primask) {
    asm volatile("msr primask, %0" : : "r"(primask) : "memory");
}

uint64_t now_ms(void*) {
    return vigil_cortex_m_now_ms();
}

void enter_critical(void*) {
    const uint32_t primask = mask_interrupts();
    g_saved_primask = primask;
}

void exit_critical(void*) {
    restore_interrupts(g_saved_primask);
}

}  // namespace

extern "C" {

void vigil_cortex_m_port(vigil_port* port) {
    *port = vigil_port{};
    port->now_ms = now_ms;
    port->enter_critical = enter_critical;
    port->exit_critical = exit_critical;
}

void vigil_cortex_m_advance_ms(uint32_t ms) {
    const uint32_t primask = mask_interrupts();
    g_now_ms = g_now_ms + ms;
    restore_interrupts(primask);
}

uint64_t vigil_cortex_m_now_ms(void) {
    const uint32_t primask = mask_interrupts();
    const uint64_t now = g_now_ms;
    restore_interrupts(primask);
    return now;
}

}  // extern "C"
