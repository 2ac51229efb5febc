#include "vigil/hub/detect/policy_file.hpp"

#include <atomic>
#include <fstream>
#include <iterator>

namespace vigil::hub::detect {

namespace fs = std::filesystem;

const char* to_string(PolicyReload reload) {
    switch (reload) {
        case PolicyReload::Unchanged:
            return "unchanged";
        case PolicyReload::Taken:
            return "taken";
        case PolicyReload::Refused:
            return "refused";
    }
    return "unknown";
}

PolicyFile::PolicyFile(fs::path path)
    : path_(std::move(path)),
      snapshot_(std::make_shared<const Policy>()),
      errors_(std::make_shared<const std::vector<PolicyError>>()) {}

PolicyFile::Stamp PolicyFile::stamp() const {
    Stamp stamp;
    std::error_code error;
    const fs::file_status status = fs::status(path_, error);
    stamp.exists = fs::exists(status);
    stamp.regular = fs::is_regular_file(status);
    if (stamp.regular) {
        const uintmax_t size = fs::file_size(path_, error);
        stamp.size = error ? 0 : size;
        stamp.modified = fs::last_write_time(path_, error);
    }
    return stamp;
}

PolicyReload PolicyFile::reload_if_changed() {
    Stamp now = stamp();
    if (ever_loaded_ && now == loaded_) {
        return PolicyReload::Unchanged;
    }
    loaded_ = now;
    ever_loaded_ = true;
    auto errors = std::make_shared<std::vector<PolicyError>>();
    if (!now.exists) {
        std::atomic_store(&snapshot_, std::make_shared<const Policy>());
        std::atomic_store(&errors_, std::shared_ptr<const std::vector<PolicyError>>(errors));
        return PolicyReload::Taken;
    }
    PolicyParse parsed;
    if (!now.regular) {
        parsed.errors.push_back({0, 0, "is not a regular file"});
    } else if (now.size > kMaxPolicyBytes) {
        // Refused unread: parse_policy would refuse it too, after holding it all in memory.
        parsed.errors.push_back({1, 1,
                                 "the file is " + std::to_string(now.size) +
                                     " bytes; a policy is at most " +
                                     std::to_string(kMaxPolicyBytes) + " bytes"});
    } else if (std::ifstream in(path_, std::ios::binary); in) {
        const std::string text((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        parsed = parse_policy(text, path_.string());
    } else {
        parsed.errors.push_back({0, 0, "cannot read the file"});
    }
    if (!parsed.ok()) {
        *errors = std::move(parsed.errors);
        std::atomic_store(&errors_, std::shared_ptr<const std::vector<PolicyError>>(errors));
        return PolicyReload::Refused;
    }
    std::atomic_store(&snapshot_, std::make_shared<const Policy>(std::move(*parsed.policy)));
    std::atomic_store(&errors_, std::shared_ptr<const std::vector<PolicyError>>(errors));
    return PolicyReload::Taken;
}

std::shared_ptr<const Policy> PolicyFile::snapshot() const {
    return std::atomic_load(&snapshot_);
}

std::shared_ptr<const std::vector<PolicyError>> PolicyFile::last_errors() const {
    return std::atomic_load(&errors_);
}

}  // namespace vigil::hub::detect
