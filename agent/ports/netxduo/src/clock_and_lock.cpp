// The ThreadX side of the port: the clock and the critical section the packet hook and the
// tick share.
#include "port_parts.hpp"

namespace vigil::ports::netxduo {

namespace {

// tx_time_get() is a ULONG tick counter that wraps (after 497 days at 100 Hz); the agent wants
// a 64-bit monotonic clock, so the wraps are counted here. The Vigil thread reads the clock at
// every tick, far more often than once per wrap, so no wrap goes unseen.
ULONG g_last_ticks = 0;
uint64_t g_wrapped_ticks = 0;

// The posture saved by enter_critical() for exit_critical(). The agent never nests its critical
// sections, and while one is held no other thread runs, so one variable is enough.
UINT g_saved_posture = TX_INT_ENABLE;

}  // namespace

uint64_t now_ms(void*) {
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    const ULONG ticks = tx_time_get();
    if (ticks < g_last_ticks) {
        g_wrapped_ticks += static_cast<uint64_t>(static_cast<ULONG>(~0UL)) + 1u;
    }
    g_last_ticks = ticks;
    const uint64_t total = g_wrapped_ticks + ticks;
    TX_RESTORE
    return total * 1000u / TX_TIMER_TICKS_PER_SECOND;
}

// NX_RAND is the application's choice of generator (rand() unless nx_user.h maps it to a
// hardware RNG); two draws because rand() gives only 31 bits.
uint32_t random32(void*) {
    const auto high = static_cast<uint32_t>(NX_RAND());
    const auto low = static_cast<uint32_t>(NX_RAND());
    return (high << 16) ^ low ^ static_cast<uint32_t>(tx_time_get());
}

// TX_DISABLE needs its save area in one function; the agent's critical section spans two calls,
// so the same lockout is taken through tx_interrupt_control(), which returns the posture to put
// back. On a microcontroller this masks interrupts; on the ThreadX Linux port it takes the
// port's global lock, which also keeps every other ThreadX thread and the "ISR" threads out.
void enter_critical(void*) {
    const UINT previous = tx_interrupt_control(TX_INT_DISABLE);
    g_saved_posture = previous;
}

void exit_critical(void*) {
    tx_interrupt_control(g_saved_posture);
}

}  // namespace vigil::ports::netxduo
