// The C port interface (vigil_port) over a C++ port object of a hosted platform: each callback
// calls the object's member of the same name. The core is built without exceptions, so none may
// cross back into it: a system fact or a listening-port list that cannot be read (out of memory,
// a file that vanished) is reported as unknown or empty.
//
// A port class provides now_ms(), unix_time_s(), random32(), enter_critical(), exit_critical(),
// system_info(vigil_system_info&), listening_ports(vigil_listening_port*, size_t) -> size_t,
// attach_hooks() and detach_hooks(); they may be private if the class befriends bind_port.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vigil/agent/vigil_agent.h"

namespace vigil::ports {

template <typename Port>
vigil_port bind_port(Port& port) {
    vigil_port bound{};
    bound.context = &port;
    bound.now_ms = [](void* self) -> uint64_t { return static_cast<Port*>(self)->now_ms(); };
    bound.unix_time_s = [](void* self) -> uint32_t {
        return static_cast<Port*>(self)->unix_time_s();
    };
    bound.random32 = [](void* self) -> uint32_t { return static_cast<Port*>(self)->random32(); };
    bound.enter_critical = [](void* self) { static_cast<Port*>(self)->enter_critical(); };
    bound.exit_critical = [](void* self) { static_cast<Port*>(self)->exit_critical(); };
    bound.system_info = [](void* self, vigil_system_info* out) {
        if (out == nullptr) {
            return;
        }
        try {
            static_cast<Port*>(self)->system_info(*out);
        } catch (...) {
            *out = vigil_system_info{};
        }
    };
    bound.listening_ports = [](void* self, vigil_listening_port* out, size_t capacity) -> size_t {
        try {
            return static_cast<Port*>(self)->listening_ports(out, capacity);
        } catch (...) {
            return 0;
        }
    };
    bound.attach_hooks = [](void* self) { static_cast<Port*>(self)->attach_hooks(); };
    bound.detach_hooks = [](void* self) { static_cast<Port*>(self)->detach_hooks(); };
    return bound;
}

}  // namespace vigil::ports
