#include "vigil/hub/detect/policy.hpp"

#include "policy_names.hpp"
#include "vigil/hub/enum_names.hpp"

namespace vigil::hub::detect {

const char* to_string(RuleMetric metric) {
    return name_of(metric, kRuleMetrics);
}

const char* to_string(OutputKind kind) {
    return name_of(kind, kOutputKinds);
}

DeviceSettings Policy::resolve(const std::string& device_id, const std::string& group) const {
    DeviceSettings settings;
    settings.group = group;
    defaults.apply(settings);
    if (!group.empty()) {
        if (const auto found = groups.find(group); found != groups.end()) {
            found->second.apply(settings);
        }
    }
    if (const auto found = devices.find(device_id); found != devices.end()) {
        found->second.apply(settings);
    }
    return settings;
}

}  // namespace vigil::hub::detect
