// The policy file watched for changes, like the feeds directory: a reload reads the file into a
// new Policy beside the one in force and swaps it in, so readers never wait and keep the
// snapshot they hold for as long as they need it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "vigil/hub/detect/policy.hpp"
#include "vigil/hub/detect/policy_parse.hpp"

namespace vigil::hub::detect {

enum class PolicyReload : uint8_t {
    Unchanged = 0,  ///< the file is as it was at the last reload
    Taken = 1,      ///< a new policy is in force (the file's, or the defaults when it went away)
    Refused = 2,    ///< the file has errors (last_errors()); the previous policy stays in force
};
const char* to_string(PolicyReload reload);  ///< "unchanged", "taken", "refused"

/// reload_if_changed() is for one thread (the watcher); snapshot() and last_errors() for any.
/// Until the first reload, and whenever the file is missing, the policy is Policy{}: the
/// built-in defaults.
class PolicyFile {
  public:
    explicit PolicyFile(std::filesystem::path path);

    /// Reads the file again when it appeared, went away or changed (size, modification time)
    /// since the last reload.
    PolicyReload reload_if_changed();
    std::shared_ptr<const Policy> snapshot() const;
    /// Why the file in place is refused; empty when the policy in force is the file's own.
    std::shared_ptr<const std::vector<PolicyError>> last_errors() const;
    const std::filesystem::path& path() const { return path_; }

  private:
    struct Stamp {
        bool exists = false;
        bool regular = false;
        uintmax_t size = 0;
        std::filesystem::file_time_type modified;
        bool operator==(const Stamp& other) const {
            return exists == other.exists && regular == other.regular && size == other.size &&
                   modified == other.modified;
        }
    };
    Stamp stamp() const;

    std::filesystem::path path_;
    Stamp loaded_;
    bool ever_loaded_ = false;
    std::shared_ptr<const Policy> snapshot_;
    std::shared_ptr<const std::vector<PolicyError>> errors_;
};

}  // namespace vigil::hub::detect
