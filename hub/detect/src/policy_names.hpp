// The policy's names for its enums and for the model's, as the file spells them.
#pragma once

#include <array>
#include <cstddef>

#include "vigil/hub/alert.hpp"

namespace vigil::hub::detect {

inline constexpr std::array<const char*, 8> kRuleMetrics = {"bytes_in",
                                                            "bytes_out",
                                                            "packets_in",
                                                            "packets_out",
                                                            "established_connections",
                                                            "listening_tcp_ports",
                                                            "listening_udp_ports",
                                                            "remote_addresses"};
inline constexpr std::array<const char*, 3> kOutputKinds = {"webhook", "syslog", "mqtt"};

/// The names of one of the model's enums (values 0 to N - 1), as its to_string() spells them.
template <typename Enum, size_t N>
std::array<const char*, N> model_names() {
    std::array<const char*, N> names{};
    for (size_t i = 0; i < N; ++i) {
        names[i] = to_string(static_cast<Enum>(i));
    }
    return names;
}

inline const auto kSeverityNames = model_names<Severity, 5>();
inline const auto kCategoryNames = model_names<AlertCategory, 12>();
inline const auto kChangeNames = model_names<AlertChange, 4>();

}  // namespace vigil::hub::detect
