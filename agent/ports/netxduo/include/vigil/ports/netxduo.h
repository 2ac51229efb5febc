/* Vigil in Eclipse ThreadX + NetX Duo: the application's whole effort is one call.
 *
 *   VIGIL_NETXDUO_SETTINGS settings = {0};
 *   settings.device_id = "device-42";
 *   settings.transport = my_mqtt_transport;       // the application's own MQTT / IoT-hub client
 *   vigil_netxduo_enable(&settings);               // after nx_ip_create() and *_enable()
 *   ...
 *   vigil_netxduo_disable();
 *
 * mirroring nx_azure_iot_security_module_enable() / _disable() of the module Vigil replaces.
 *
 * What runs where:
 *  - the packet hook is nx_ip_packet_filter_extended on every IP instance (both directions). It
 *    runs in whichever thread NetX calls the filter from (the IP helper thread for deferred
 *    receive, the sending thread otherwise), never drops a packet, and chains a filter another
 *    component installed before it.
 *  - everything else runs in one ThreadX thread of the port's own ("Vigil"), which ticks the
 *    agent every tick_period_ticks: collections, the state machine and the transport's send.
 *    It is a thread and not a ThreadX timer because the transport may take a mutex or wait on
 *    the client, which timer callbacks must not do.
 *  - the critical section shared by the two is ThreadX's interrupt lockout (TX_DISABLE).
 *
 * Needs NX_ENABLE_IP_PACKET_FILTER in nx_user.h (the build stops with an #error without it).
 * Define VIGIL_NETXDUO_DISABLE to compile the port out: enable then returns NX_NOT_ENABLED.
 */
#ifndef VIGIL_PORTS_NETXDUO_H
#define VIGIL_PORTS_NETXDUO_H

#include "nx_api.h"
#include "tx_api.h"
#include "vigil/agent/vigil_agent.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Stack of the Vigil thread, in bytes. */
#ifndef VIGIL_NETXDUO_STACK_BYTES
#define VIGIL_NETXDUO_STACK_BYTES 4096
#endif
/* Its priority when the settings give 0: below the IP helper threads and most applications. */
#ifndef VIGIL_NETXDUO_THREAD_PRIORITY
#define VIGIL_NETXDUO_THREAD_PRIORITY 20
#endif
/* 1: build the transport receive wrappers that settings.inbound_at_transport selects (about
 * 700 B of flash on a Cortex-M4); 0: leave them out. */
#ifndef VIGIL_NETXDUO_TRANSPORT_HOOKS
#define VIGIL_NETXDUO_TRANSPORT_HOOKS 0
#endif
/* IP instances the filter can hook; instances past this are counted in ip_instances_skipped. */
#ifndef VIGIL_NETXDUO_MAX_IP_INSTANCES
#define VIGIL_NETXDUO_MAX_IP_INSTANCES 4
#endif

/* Configs from the hub (devices/{id}/config/vigil) reach the agent through a source the Vigil
 * thread polls before each tick, so a config is applied in the thread that ticks the agent and
 * never from the client's receive context. take() returns the oldest waiting config message, in
 * a buffer of the source's own that stays valid until the next take(), and its length in
 * *length; null when none is waiting. It must not block. */
typedef struct VIGIL_NETXDUO_CONFIG_SOURCE {
    void* context;
    const UCHAR* (*take)(void* context, ULONG* length);
} VIGIL_NETXDUO_CONFIG_SOURCE;

/* Configs the Vigil thread applies (or refuses) per tick at most: a flood waits in the source. */
#ifndef VIGIL_NETXDUO_CONFIGS_PER_TICK
#define VIGIL_NETXDUO_CONFIGS_PER_TICK 2
#endif

typedef struct VIGIL_NETXDUO_SETTINGS {
    /* Copied by the agent; at most 127 bytes of [A-Za-z0-9-._:]. Required. */
    const char* device_id;
    /* The application's client. Its callbacks run in the Vigil thread. Required. */
    vigil_transport transport;
    /* Reported in the system information; may be null. Must stay valid while enabled. */
    const char* board;
    const char* firmware_version;
    /* Seconds since 1970, or 0 when unknown (the role of nx_azure_iot_unix_time_get). May be
     * null: the agent then reports device uptime only. */
    uint32_t (*unix_time_s)(void);
    /* The device's starting config (a config message of version 0, docs/protocol.md); may be
     * null. Applied whole or refused whole, then replaced by any config the hub sends. */
    const uint8_t* local_config;
    size_t local_config_length;
    /* Upper bound of the random delay before the first collection; 0 collects at once. */
    uint32_t first_collection_splay_max_ms;
    /* 0: VIGIL_NETXDUO_THREAD_PRIORITY. */
    UINT thread_priority;
    /* 0: a tenth of a second. */
    ULONG tick_period_ticks;
    /* 0 (default): inbound packets are counted in the IP filter, as they arrive, before NetX
     * checks them (once per fragment). Nonzero: counted where NetX hands them to TCP, UDP, ICMP
     * or ICMPv6 (the original module's unicast-only mode, ICMPv6 included): only what NetX
     * accepted for this host, after checksum and address checks and reassembly. Outbound packets
     * are always counted in the filter. Needs VIGIL_NETXDUO_TRANSPORT_HOOKS. */
    UINT inbound_at_transport;
    /* Where configs from the hub come from; take may be null (no remote config). Each is applied
     * whole or refused whole; the heartbeat reports the version in force, or the version and
     * reason of the last one refused. */
    VIGIL_NETXDUO_CONFIG_SOURCE config_source;
} VIGIL_NETXDUO_SETTINGS;

/* Starts Vigil (the first call) or starts it again after vigil_netxduo_disable(): hooks every IP
 * instance created so far (later ones are hooked by the Vigil thread within a tick period) and
 * starts the Vigil thread. Call from a thread, after nx_ip_create().
 * NX_SUCCESS; NX_PTR_ERROR when settings, the device id or the transport's send is missing;
 * NX_NOT_SUCCESSFUL when the agent refused the device id or the local config;
 * NX_OPTION_ERROR when inbound_at_transport is asked of a build without the wrappers;
 * NX_NOT_ENABLED when compiled out. Settings given again after the first call are ignored. */
UINT vigil_netxduo_enable(const VIGIL_NETXDUO_SETTINGS* settings);

/* Removes the filter from every IP instance (restoring the one it chained), drops the open
 * collection window and parks the Vigil thread; the backlog is kept for the next enable. */
UINT vigil_netxduo_disable(VOID);

/* What the port itself saw, for diagnostics and tests. */
typedef struct VIGIL_NETXDUO_COUNTS {
    ULONG ip_instances_hooked;
    ULONG ip_instances_skipped; /* beyond VIGIL_NETXDUO_MAX_IP_INSTANCES */
    ULONG packets_in;           /* seen by the filter while enabled */
    ULONG packets_out;
    ULONG ticks;           /* agent ticks run by the Vigil thread */
    ULONG configs_applied; /* from the config source */
    ULONG configs_refused;
} VIGIL_NETXDUO_COUNTS;

VOID vigil_netxduo_counts(VIGIL_NETXDUO_COUNTS* out);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_PORTS_NETXDUO_H */
