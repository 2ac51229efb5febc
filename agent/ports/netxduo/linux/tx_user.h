/* ThreadX settings for running the NetX Duo port on the ThreadX Linux port (64-bit hosts).
 * The defaults suit: 100 ticks a second, and the scheduler's idle loop left as it is. Never
 * define TX_LINUX_NO_IDLE_ENABLE here: it makes ThreadX time run as fast as the host allows
 * whenever no thread is ready, and every timeout (TCP, ARP, DAD, the agent's own) collapses. */
#ifndef VIGIL_TX_USER_H
#define VIGIL_TX_USER_H

#endif /* VIGIL_TX_USER_H */
