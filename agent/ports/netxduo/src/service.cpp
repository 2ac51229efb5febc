// The one-call enable / disable, and the Vigil thread that ticks the agent.
#include "port_parts.hpp"
#include "vigil/ports/netxduo.h"

#ifndef VIGIL_NETXDUO_DISABLE

namespace vigil::ports::netxduo {
namespace {

constexpr ULONG kDefaultPeriodTicks =
    TX_TIMER_TICKS_PER_SECOND / 10 > 0 ? TX_TIMER_TICKS_PER_SECOND / 10 : 1;

TX_THREAD g_thread;
// The agent context: the thread's tick and the application's enable / disable never overlap.
TX_MUTEX g_context;
// Wakes the thread when it is parked (disabled).
TX_SEMAPHORE g_wake;
ULONG g_stack[VIGIL_NETXDUO_STACK_BYTES / sizeof(ULONG)];

bool g_created = false;      // thread, mutex and semaphore exist
bool g_initialised = false;  // vigil_agent_init() succeeded
bool g_running = false;      // enabled: the thread ticks
ULONG g_period_ticks = kDefaultPeriodTicks;
ULONG g_ticks = 0;
VIGIL_NETXDUO_CONFIG_SOURCE g_config_source{};
ULONG g_configs_applied = 0;
ULONG g_configs_refused = 0;

SystemSettings g_system{};
uint32_t (*g_unix_time)(void) = nullptr;

uint32_t unix_time_s(void*) {
    return g_unix_time != nullptr ? g_unix_time() : 0;
}

void attach_hooks(void*) {
    hook_ip_instances();
}

void detach_hooks(void*) {
    unhook_ip_instances();
}

// Constant, so it sits in flash rather than being filled in by code.
const vigil_port kPort = {&g_system,       &now_ms,        &unix_time_s, &random32,
                          &enter_critical, &exit_critical, &system_info, &listening_ports,
                          &attach_hooks,   &detach_hooks};

// Runs under g_context, so a config never overlaps the tick, enable or disable.
void apply_waiting_configs() {
    if (g_config_source.take == nullptr) {
        return;
    }
    for (int taken = 0; taken < VIGIL_NETXDUO_CONFIGS_PER_TICK; ++taken) {
        ULONG length = 0;
        const UCHAR* config = g_config_source.take(g_config_source.context, &length);
        if (config == nullptr) {
            return;
        }
        if (vigil_agent_apply_config(config, length) == VIGIL_OK) {
            ++g_configs_applied;
        } else {
            ++g_configs_refused;
        }
    }
}

void thread_entry(ULONG) {
    for (;;) {
        tx_mutex_get(&g_context, TX_WAIT_FOREVER);
        const bool running = g_running;
        if (running) {
            hook_ip_instances();  // IP instances created since the last tick
            apply_waiting_configs();
            (void)vigil_agent_tick();
            ++g_ticks;
        }
        tx_mutex_put(&g_context);
        if (running) {
            tx_thread_sleep(g_period_ticks);
        } else {
            tx_semaphore_get(&g_wake, TX_WAIT_FOREVER);
        }
    }
}

UINT create_service(UINT priority) {
    if (tx_mutex_create(&g_context, const_cast<CHAR*>("Vigil context"), TX_INHERIT) != TX_SUCCESS) {
        return NX_NOT_SUCCESSFUL;
    }
    if (tx_semaphore_create(&g_wake, const_cast<CHAR*>("Vigil wake"), 0) != TX_SUCCESS) {
        tx_mutex_delete(&g_context);
        return NX_NOT_SUCCESSFUL;
    }
    if (tx_thread_create(&g_thread, const_cast<CHAR*>("Vigil"), thread_entry, 0, g_stack,
                         sizeof(g_stack), priority, priority, TX_NO_TIME_SLICE,
                         TX_AUTO_START) != TX_SUCCESS) {
        tx_semaphore_delete(&g_wake);
        tx_mutex_delete(&g_context);
        return NX_NOT_SUCCESSFUL;
    }
    g_created = true;
    return NX_SUCCESS;
}

UINT first_enable(const VIGIL_NETXDUO_SETTINGS& settings) {
    g_system.board = settings.board;
    g_system.firmware_version = settings.firmware_version;
    g_unix_time = settings.unix_time_s;
    g_config_source = settings.config_source;
    g_period_ticks =
        settings.tick_period_ticks != 0 ? settings.tick_period_ticks : kDefaultPeriodTicks;
    set_inbound_at_transport(settings.inbound_at_transport != 0);
    vigil_options options{};
    options.first_collection_splay_max_ms = settings.first_collection_splay_max_ms;
    if (vigil_agent_init(&kPort, &settings.transport, settings.device_id, &options) != VIGIL_OK) {
        return NX_NOT_SUCCESSFUL;
    }
    g_initialised = true;
    if (settings.local_config != nullptr &&
        vigil_agent_apply_local_config(settings.local_config, settings.local_config_length) !=
            VIGIL_OK) {
        // Refused whole: Vigil stays off rather than run on settings the device did not ask for.
        (void)vigil_agent_disable();
        return NX_NOT_SUCCESSFUL;
    }
    return NX_SUCCESS;
}

}  // namespace
}  // namespace vigil::ports::netxduo

using namespace vigil::ports::netxduo;

extern "C" UINT vigil_netxduo_enable(const VIGIL_NETXDUO_SETTINGS* settings) {
    if (settings == nullptr || settings->device_id == nullptr ||
        settings->transport.send == nullptr) {
        return NX_PTR_ERROR;
    }
    if (!VIGIL_NETXDUO_TRANSPORT_HOOKS && !g_initialised && settings->inbound_at_transport != 0) {
        return NX_OPTION_ERROR;
    }
    if (!g_created) {
        const UINT priority = settings->thread_priority != 0 ? settings->thread_priority
                                                             : VIGIL_NETXDUO_THREAD_PRIORITY;
        const UINT created = create_service(priority);
        if (created != NX_SUCCESS) {
            return created;
        }
    }
    tx_mutex_get(&g_context, TX_WAIT_FOREVER);
    UINT result = NX_SUCCESS;
    if (!g_initialised) {
        result = first_enable(*settings);
    } else if (!g_running) {
        result = vigil_agent_enable() == VIGIL_OK ? NX_SUCCESS : NX_NOT_SUCCESSFUL;
    }
    g_running = result == NX_SUCCESS;
    tx_mutex_put(&g_context);
    if (g_running) {
        tx_semaphore_ceiling_put(&g_wake, 1);
    }
    return result;
}

extern "C" UINT vigil_netxduo_disable(VOID) {
    if (!g_created) {
        return NX_SUCCESS;
    }
    tx_mutex_get(&g_context, TX_WAIT_FOREVER);
    if (g_running) {
        (void)vigil_agent_disable();
        g_running = false;
    }
    tx_mutex_put(&g_context);
    return NX_SUCCESS;
}

extern "C" VOID vigil_netxduo_counts(VIGIL_NETXDUO_COUNTS* out) {
    if (out == nullptr) {
        return;
    }
    const FilterCounts filter = filter_counts();
    out->ip_instances_hooked = filter.hooked;
    out->ip_instances_skipped = filter.skipped;
    out->packets_in = filter.packets_in;
    out->packets_out = filter.packets_out;
    out->ticks = g_ticks;
    out->configs_applied = g_configs_applied;
    out->configs_refused = g_configs_refused;
}

#else  // VIGIL_NETXDUO_DISABLE: compiled out, as NX_AZURE_DISABLE_IOT_SECURITY_MODULE did.

extern "C" UINT vigil_netxduo_enable(const VIGIL_NETXDUO_SETTINGS*) {
    return NX_NOT_ENABLED;
}

extern "C" UINT vigil_netxduo_disable(VOID) {
    return NX_SUCCESS;
}

extern "C" VOID vigil_netxduo_counts(VIGIL_NETXDUO_COUNTS* out) {
    if (out != nullptr) {
        *out = VIGIL_NETXDUO_COUNTS{};
    }
}

#endif
