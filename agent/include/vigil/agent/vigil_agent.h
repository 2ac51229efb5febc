/* Vigil agent core: the C ABI.
 *
 * An IP stack calls vigil_agent_packet() for every packet it sends or receives; the application
 * calls vigil_agent_tick() periodically (every 100 ms to 1 s) and implements the transport with
 * its own MQTT / IoT-hub client. The agent never opens a connection, never allocates after init,
 * and has no thread of its own.
 *
 * Contexts (which caller may call what):
 *  - vigil_agent_packet(): any context in which the port's critical section is valid, including
 *    interrupt handlers when enter_critical masks interrupts. It holds the critical section only
 *    for one flow-table update. vigil_agent_packet_in_critical_section(): the same contexts, with
 *    the critical section already held by the caller.
 *  - every other function: one "agent context" (a thread or the main loop), never concurrently
 *    with each other. vigil_agent_tick() holds the critical section briefly: to read the
 *    counters and close a window (one pass over the flow tables), and to free the records of each
 *    message it has encoded. Closed records are sorted and encoded outside it; their traffic
 *    after the close goes to the next window.
 *  - the transport and port callbacks are called only from the agent context, except
 *    enter_critical/exit_critical, which the packet hook also calls.
 *
 * This ABI drives one agent instance that the library places in static storage (as a network
 * stack hook needs one well-known instance). C++ code that wants several instances, or other
 * capacities, uses vigil::agent::Agent<> from agent.hpp directly.
 */
#ifndef VIGIL_AGENT_H
#define VIGIL_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vigil_status {
    VIGIL_OK = 0,                  /* done */
    VIGIL_BAD_PARAMETER = 1,       /* an argument is null or out of range; nothing changed */
    VIGIL_NOT_INITIALISED = 2,     /* init has not succeeded yet */
    VIGIL_ALREADY_INITIALISED = 3, /* init called twice */
    VIGIL_DISABLED = 4,            /* the agent is disabled (at run time, or compiled out) */
    VIGIL_INVALID_CONFIG = 5,      /* config rejected whole; the reason is in the next heartbeat */
} vigil_status;

const char* vigil_status_string(vigil_status status);

typedef enum vigil_direction {
    VIGIL_INBOUND = 0,  /* received by the device */
    VIGIL_OUTBOUND = 1, /* sent by the device */
} vigil_direction;

typedef enum vigil_state {
    VIGIL_STATE_NOT_INITIALISED = 0, /* before init, or while disabled */
    VIGIL_STATE_PENDING = 1,         /* collecting; the transport is not connected */
    VIGIL_STATE_ACTIVE = 2,          /* collecting and sending */
    VIGIL_STATE_SUSPENDED = 3, /* pending too long: network and heartbeat only, into the backlog */
} vigil_state;

/* An IPv4 or IPv6 address in network byte order; family 4 or 6 (0: none / any). */
typedef struct vigil_address {
    uint8_t family;
    uint8_t bytes[16];
} vigil_address;

#define VIGIL_MAX_SYSTEM_ADDRESSES 8
#define VIGIL_MAX_SYSTEM_MACS 4

/* System facts the port reports. Strings are NUL-terminated, owned by the port, and must stay
 * valid until the call returns; null means unknown. At most 64 bytes of each are sent. */
typedef struct vigil_system_info {
    const char* os_name;
    const char* os_version;
    const char* stack_name;
    const char* stack_version;
    const char* firmware_version;
    const char* board;
    vigil_address addresses[VIGIL_MAX_SYSTEM_ADDRESSES];
    size_t address_count;
    uint8_t macs[VIGIL_MAX_SYSTEM_MACS][6];
    size_t mac_count;
} vigil_system_info;

typedef enum vigil_protocol { VIGIL_TCP = 0, VIGIL_UDP = 1, VIGIL_ICMP = 2 } vigil_protocol;

typedef struct vigil_listening_port {
    vigil_protocol protocol;
    uint16_t port;
    vigil_address address; /* family 0: all addresses */
} vigil_listening_port;

/* What binds the core to a platform. Only now_ms is required. */
typedef struct vigil_port {
    void* context;
    /* Monotonic milliseconds. Packet timestamps must come from the same clock. */
    uint64_t (*now_ms)(void* context);
    /* Seconds since 1970, or 0 when the device does not know the time. */
    uint32_t (*unix_time_s)(void* context);
    /* A random 32-bit value; used for the boot id, the hash seed and the first-collection splay.
     * Without it the agent derives them from the device id and the clock. */
    uint32_t (*random32)(void* context);
    /* Critical section shared by the packet hook and the tick. May be null only when both run in
     * one context. Must not nest the agent's own calls. */
    void (*enter_critical)(void* context);
    void (*exit_critical)(void* context);
    /* Fills what the platform knows. Called from the tick. */
    void (*system_info)(void* context, vigil_system_info* out);
    /* Writes up to `capacity` listening sockets; returns how many exist (may exceed capacity). */
    size_t (*listening_ports)(void* context, vigil_listening_port* out, size_t capacity);
    /* Install / remove the stack hooks that call vigil_agent_packet(). Called on enable/disable. */
    void (*attach_hooks)(void* context);
    void (*detach_hooks)(void* context);
} vigil_port;

/* The application's MQTT / IoT-hub client. */
typedef struct vigil_transport {
    void* context;
    bool (*is_connected)(void* context);
    /* Publish `payload` on `topic` with the URL-encoded `property_bag` appended (IoT-hub style) or
     * carried as properties. Returns > 0 when the client took the message (QoS 1 queued or sent),
     * 0 when it is busy and the agent should retry later, < 0 on error. Must not block. */
    int32_t (*send)(void* context, const char* topic, const char* property_bag,
                    const uint8_t* payload, size_t length);
} vigil_transport;

typedef struct vigil_options {
    /* The first collection waits a random delay below this, so a fleet does not report in step.
     * 0 means: collect at the first tick. */
    uint32_t first_collection_splay_max_ms;
} vigil_options;

/* Starts the agent (enabled by default): attaches the hooks and enters PENDING. `options` may be
 * null for the build defaults. device_id is copied (at most 127 bytes of [A-Za-z0-9-._:]). */
vigil_status vigil_agent_init(const vigil_port* port, const vigil_transport* transport,
                              const char* device_id, const vigil_options* options);
vigil_status vigil_agent_enable(void);
/* Detaches every hook, drops the open window, keeps the backlog for when it is enabled again. */
vigil_status vigil_agent_disable(void);
/* Runs due collections, the state machine and pending sends. */
vigil_status vigil_agent_tick(void);
/* The packet hook: `ip` points at the IPv4 or IPv6 header, `length` bytes are readable. Byte
 * counts come from the IP header's length field, so a capture truncated after the transport
 * header still counts the packet's real size. */
void vigil_agent_packet(const uint8_t* ip, size_t length, vigil_direction direction,
                        uint8_t interface_index, uint64_t timestamp_ms);
/* The same, for a hook that already holds the port's critical section (to read its clock inside
 * the same lockout, say): the agent does not call enter_critical/exit_critical itself. */
void vigil_agent_packet_in_critical_section(const uint8_t* ip, size_t length,
                                            vigil_direction direction, uint8_t interface_index,
                                            uint64_t timestamp_ms);
/* Applies a CBOR config message (see docs/protocol.md) whole, or rejects it whole. */
vigil_status vigil_agent_apply_config(const uint8_t* data, size_t length);
/* The device's own starting settings: a config message whose version is 0, checked by the same
 * rules and applied whole, kept at version 0 so that any config the hub sends replaces it.
 * VIGIL_BAD_PARAMETER when its version is not 0 or a config from the hub is already in force. */
vigil_status vigil_agent_apply_local_config(const uint8_t* data, size_t length);
vigil_state vigil_agent_state(void);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_AGENT_H */
