// The ThreadX side of the port: the clock and the critical section the packet hook and the
// tick share.
#include "port_parts.hpp"

// ThreadX's tick counter itself, which tx_time_get() reads inside its own lockout; the packet
// hook reads it inside the lockout it already holds. This internal header has no C++ linkage
// guard of its own.
extern "C" {
#include "tx_timer.h"
}

namespace vigil::ports::netxduo {

namespace {

// tx_time_get() is a 32-bit ULONG tick counter that wraps (after 497 days at 100 Hz); the agent
// wants a 64-bit monotonic clock. One 32-bit word holds the number of wraps and the top bit of the
// tick count when it was last read: a read whose top bit is 0 after one that saw 1 has wrapped.
// The agent context (the Vigil thread, every tick) is the only writer, so the packet hook reads
// the word once, without a lock, and gets the same answer as long as the clock is read at least
// once per half wrap (248 days at 100 Hz).
ULONG g_epoch = 0;

uint64_t extend(ULONG ticks, ULONG& epoch_out) {
    const ULONG epoch = __atomic_load_n(&g_epoch, __ATOMIC_ACQUIRE);
    ULONG wraps = epoch >> 1;
    const ULONG top_bit = static_cast<ULONG>(ticks >> 31) & 1u;
    if ((epoch & 1u) != 0 && top_bit == 0) {
        ++wraps;
    }
    epoch_out = static_cast<ULONG>(wraps << 1) | top_bit;
    return (static_cast<uint64_t>(wraps) << 32) | ticks;
}

// At the common tick rates (1000 divisible by the rate: 100 Hz, 1 kHz) a multiplication; a
// 64-bit division otherwise, which on a Cortex-M links the compiler's division helper.
constexpr uint64_t kTicksPerSecond = TX_TIMER_TICKS_PER_SECOND;

uint64_t to_ms(uint64_t ticks) {
    if constexpr (1000 % kTicksPerSecond == 0) {
        return ticks * (1000 / kTicksPerSecond);
    } else {
        return ticks * 1000u / kTicksPerSecond;
    }
}

// The posture saved by enter_critical() for exit_critical(). The agent never nests its critical
// sections, and while one is held no other thread runs, so one variable is enough.
UINT g_saved_posture = TX_INT_ENABLE;

}  // namespace

uint64_t now_ms(void*) {
    ULONG epoch = 0;
    const uint64_t ticks = extend(tx_time_get(), epoch);
    __atomic_store_n(&g_epoch, epoch, __ATOMIC_RELEASE);
    return to_ms(ticks);
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

// One lockout per packet: the clock is read and the agent's flow update runs inside it, so
// neither tx_time_get() nor the agent's critical section takes a lockout of its own. The agent
// parses the headers inside it too (a few dozen instructions more with interrupts masked).
void count_packet(const UCHAR* ip, ULONG length, vigil_direction direction, uint8_t slot) {
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    ULONG unused = 0;
    const uint64_t now = to_ms(extend(_tx_timer_system_clock, unused));
    vigil_agent_packet_in_critical_section(ip, length, direction, slot, now);
    TX_RESTORE
}

}  // namespace vigil::ports::netxduo
