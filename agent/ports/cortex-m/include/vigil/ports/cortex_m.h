/* The bare-metal Cortex-M port of the agent core: a millisecond clock and a critical section
 * that masks interrupts (PRIMASK), so the packet hook may run in an interrupt handler (an
 * Ethernet MAC's receive interrupt) while the tick runs in the main loop.
 *
 *   vigil_port port;
 *   vigil_cortex_m_port(&port);              clock + critical section; the rest stays null
 *   port.system_info = my_system_info;       optional callbacks the application knows
 *   vigil_agent_init(&port, &transport, "sensor-9", NULL);
 *   void SysTick_Handler(void) { vigil_cortex_m_advance_ms(1); }
 *
 * Masking all interrupts is the whole protection because a Cortex-M3/M4 has one core; the agent
 * holds the section for one flow-table update in the hook and for short passes in the tick. The
 * port has no randomness source (boards differ): without random32 the agent derives its boot id
 * and hash seed from the device id and the clock; set port.random32 to a hardware RNG when there
 * is one. */
#ifndef VIGIL_PORTS_CORTEX_M_H
#define VIGIL_PORTS_CORTEX_M_H

#include <stdint.h>

#include "vigil/agent/vigil_agent.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fills `port`: now_ms reads the port clock, enter/exit_critical mask and restore interrupts.
 * Every other callback is null. */
void vigil_cortex_m_port(vigil_port* port);

/* Advances the port clock; call it from a periodic timer interrupt (or, in a test, from the
 * program). Safe from any context. */
void vigil_cortex_m_advance_ms(uint32_t ms);

/* The port clock: milliseconds since start, 64 bits so it never wraps. Safe from any context. */
uint64_t vigil_cortex_m_now_ms(void);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_PORTS_CORTEX_M_H */
