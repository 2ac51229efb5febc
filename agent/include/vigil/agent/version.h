#pragma once

namespace vigil::agent {

/// The agent's version, as reported in system information.
constexpr char kVersionString[] = "0.1.0";

}  // namespace vigil::agent
