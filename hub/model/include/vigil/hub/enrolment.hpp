// What an operator decided about a device, apart from the agent's own state.
#pragma once

#include <cstdint>

namespace vigil::hub {

enum class Enrolment : uint8_t { Pending = 0, Enrolled = 1, Blocked = 2 };
const char* to_string(Enrolment enrolment);  ///< "pending", "enrolled", "blocked"

}  // namespace vigil::hub
