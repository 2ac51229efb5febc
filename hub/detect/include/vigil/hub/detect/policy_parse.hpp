// Reading the policy file: TOML text to a Policy, or every reason it cannot be one. The policy
// is all or nothing: one error refuses the whole file, so that a typo never leaves a device with
// half its intended settings.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/hub/detect/policy.hpp"

namespace vigil::hub::detect {

/// One reason the file was refused, where it is (1-based; 0 when it has no place in the text).
struct PolicyError {
    int line = 0;
    int column = 0;
    std::string message;
};

/// "FILE:LINE:COL: message", as compilers print them (editors jump to the place).
std::string format_error(const std::string& source, const PolicyError& error);

struct PolicyParse {
    std::optional<Policy> policy;     ///< set only when there is no error
    std::vector<PolicyError> errors;  ///< in the file's order
    bool ok() const { return policy.has_value(); }
};

/// A larger file is refused unread: a policy is a few kilobytes.
constexpr size_t kMaxPolicyBytes = 16u << 20;

/// Parses and validates a policy. `source_name` is the file's path: errors and Policy::source
/// name it, and an output's `secret_file` is read relative to its directory.
PolicyParse parse_policy(std::string_view text, std::string source_name);

}  // namespace vigil::hub::detect
