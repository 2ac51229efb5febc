// Whether another user of this machine can reach files: asked of the kernel by a child process
// that takes that user's identity, so every rule the kernel applies (modes, groups, ACLs, mount
// options) is the one mosquitto will meet once it has dropped to its own user.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace vigil::hub::broker_detail {

struct AccessNeed {
    std::string path;
    int mode = 0;  ///< access(2)'s R_OK | W_OK | X_OK
};

/// Every directory from the root down to `path` needs X_OK (to reach it), `path` itself `mode`.
std::vector<AccessNeed> reach(const std::string& path, int mode);

struct Denied {
    std::string path;    ///< "" when the user may do everything asked
    std::string reason;  ///< strerror of the refusal, or why the check itself failed
    bool denied() const { return !path.empty() || !reason.empty(); }
};

/// The first need `user` is refused, in order; only root can switch to another user.
Denied first_denied(const std::string& user, const std::vector<AccessNeed>& needs);

/// "" when `user` can reach `broker_dir` and read and write everything in it; else what it
/// cannot reach, and the command that lets it.
std::string broker_files_problem(const std::string& user, const std::string& broker_dir);

}  // namespace vigil::hub::broker_detail
