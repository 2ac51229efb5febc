// libFuzzer target for the detection policy file. For every input: no crash, leak or
// out-of-bounds read (ASan), and no exception out of the parser; the answer is a policy or at
// least one error, never both; every error has a message and names a line the input has; and a
// policy taken resolves for every group and device and shows as JSON.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "vigil/hub/detect/policy_json.hpp"
#include "vigil/hub/detect/policy_parse.hpp"

namespace {

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "policy_fuzz: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace vigil::hub::detect;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    int lines = 1;
    for (char c : text) {
        lines += c == '\n' ? 1 : 0;
    }
    // A directory that does not exist: a secret_file the input names is never found beside it.
    const PolicyParse parsed = parse_policy(text, "/nonexistent/policy_fuzz/policy.toml");
    require(parsed.ok() == parsed.errors.empty(), "a policy with errors, or neither");
    for (const PolicyError& error : parsed.errors) {
        require(!error.message.empty(), "an error without a message");
        require(error.line >= 1 && error.line <= lines, "an error names a line the input lacks");
    }
    if (!parsed.ok()) {
        return 0;
    }
    const Policy& policy = *parsed.policy;
    size_t shown = to_json(policy).dump().size();
    for (const auto& [group, layer] : policy.groups) {
        const DeviceSettings settings = policy.resolve("", group);
        require(settings.group == group, "a group's settings name another group");
        for (const CustomRule& rule : settings.rules) {
            require(rule.above.has_value() || rule.below.has_value(), "a rule without threshold");
            require(rule.alarm_after >= 1 && rule.alarm_after <= 10, "alarm_after out of range");
        }
    }
    for (const auto& [device, layer] : policy.devices) {
        shown += to_json(policy.resolve(device, "")).dump().size();
    }
    require(shown > 0, "an empty JSON summary");
    return 0;
}
