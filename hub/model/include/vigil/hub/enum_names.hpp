// An enum's names as a table its values index: for enums that count up from 0 without gaps.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>

namespace vigil::hub {

/// The name of `value`, "unknown" for a value past the table.
template <typename Enum, std::size_t N>
const char* name_of(Enum value, const std::array<const char*, N>& names) {
    const auto index = static_cast<std::size_t>(value);
    return index < N ? names[index] : "unknown";
}

/// The value named `name`, nullopt for a name not in the table.
template <typename Enum, std::size_t N>
std::optional<Enum> value_named(const std::string& name, const std::array<const char*, N>& names) {
    for (std::size_t i = 0; i < N; ++i) {
        if (name == names[i]) {
            return static_cast<Enum>(i);
        }
    }
    return std::nullopt;
}

}  // namespace vigil::hub
