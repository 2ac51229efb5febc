/* Build-time settings of the agent core. Each is an #ifndef default; a build overrides them with
 * -D flags or in a "vigil_agent_config.h" found on the include path. Units are in the names. */
#ifndef VIGIL_AGENT_CONFIG_DEFAULTS_H
#define VIGIL_AGENT_CONFIG_DEFAULTS_H

#if defined(__has_include)
#if __has_include("vigil_agent_config.h")
#include "vigil_agent_config.h"
#endif
#endif

/* Define to 1 to build the agent as a set of no-op functions (the opt-out). */
#ifndef VIGIL_AGENT_DISABLED
#define VIGIL_AGENT_DISABLED 0
#endif

/* Flow records per collection window. */
#ifndef VIGIL_MAX_IPV4_FLOWS
#define VIGIL_MAX_IPV4_FLOWS 64
#endif
#ifndef VIGIL_MAX_IPV6_FLOWS
#define VIGIL_MAX_IPV6_FLOWS 16
#endif

/* Bytes of encoded messages kept while the hub is unreachable; the oldest are dropped first. */
#ifndef VIGIL_BACKLOG_BYTES
#define VIGIL_BACKLOG_BYTES 2048
#endif

/* Largest single message; a window that does not fit is split into parts. */
#ifndef VIGIL_MAX_MESSAGE_BYTES
#define VIGIL_MAX_MESSAGE_BYTES 1024
#endif

/* Listening sockets reported per collection. */
#ifndef VIGIL_MAX_LISTENING_PORTS
#define VIGIL_MAX_LISTENING_PORTS 16
#endif

/* Collectors built in (1) or compiled out (0). A collector compiled out cannot be enabled by a
 * runtime config. */
#ifndef VIGIL_COLLECTOR_NETWORK
#define VIGIL_COLLECTOR_NETWORK 1
#endif
#ifndef VIGIL_COLLECTOR_SYSTEM
#define VIGIL_COLLECTOR_SYSTEM 1
#endif
#ifndef VIGIL_COLLECTOR_HEARTBEAT
#define VIGIL_COLLECTOR_HEARTBEAT 1
#endif
#ifndef VIGIL_COLLECTOR_LISTENING_PORTS
#define VIGIL_COLLECTOR_LISTENING_PORTS 1
#endif

/* Build-time defaults of the runtime config (a config message from the hub may change them). */
#ifndef VIGIL_HIGH_INTERVAL_S
#define VIGIL_HIGH_INTERVAL_S 10
#endif
#ifndef VIGIL_MEDIUM_INTERVAL_S
#define VIGIL_MEDIUM_INTERVAL_S 30
#endif
#ifndef VIGIL_LOW_INTERVAL_S
#define VIGIL_LOW_INTERVAL_S 60
#endif
/* Priority group of each collector: 0 high, 1 medium, 2 low. */
#ifndef VIGIL_NETWORK_PRIORITY
#define VIGIL_NETWORK_PRIORITY 0
#endif
#ifndef VIGIL_SYSTEM_PRIORITY
#define VIGIL_SYSTEM_PRIORITY 2
#endif
#ifndef VIGIL_HEARTBEAT_PRIORITY
#define VIGIL_HEARTBEAT_PRIORITY 2
#endif
#ifndef VIGIL_LISTENING_PORTS_PRIORITY
#define VIGIL_LISTENING_PORTS_PRIORITY 1
#endif
/* Ignore inbound broadcast and multicast. */
#ifndef VIGIL_UNICAST_ONLY
#define VIGIL_UNICAST_ONLY 1
#endif
/* PENDING this long becomes SUSPENDED. */
#ifndef VIGIL_PENDING_TIMEOUT_S
#define VIGIL_PENDING_TIMEOUT_S 300
#endif
/* Delay before a failed or refused send is tried again. */
#ifndef VIGIL_SEND_RETRY_S
#define VIGIL_SEND_RETRY_S 3
#endif
/* Upper bound of the random delay before the first collection. */
#ifndef VIGIL_FIRST_COLLECTION_SPLAY_MAX_MS
#define VIGIL_FIRST_COLLECTION_SPLAY_MAX_MS 10000
#endif

#endif /* VIGIL_AGENT_CONFIG_DEFAULTS_H */
