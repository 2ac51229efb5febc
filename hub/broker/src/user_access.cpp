#include "user_access.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vigil::hub::broker_detail {

namespace fs = std::filesystem;

std::vector<AccessNeed> reach(const std::string& path, int mode) {
    std::vector<AccessNeed> needs;
    const fs::path absolute = fs::absolute(path).lexically_normal();
    fs::path above;
    for (const fs::path& part : absolute) {
        above /= part;
        needs.push_back({above.string(), X_OK});
    }
    if (!needs.empty()) {
        needs.back().mode = mode;
    }
    return needs;
}

Denied first_denied(const std::string& user, const std::vector<AccessNeed>& needs) {
    const passwd* account = getpwnam(user.c_str());
    if (account == nullptr) {
        return {"", "no user " + user};
    }
    const uid_t uid = account->pw_uid;
    const gid_t gid = account->pw_gid;
    // The groups are looked up before the fork: the child may only make system calls.
    std::vector<gid_t> groups(64);
    int count = static_cast<int>(groups.size());
    if (getgrouplist(user.c_str(), gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<size_t>(count));
        if (getgrouplist(user.c_str(), gid, groups.data(), &count) < 0) {
            return {"", "cannot list the groups of " + user};
        }
    }
    groups.resize(static_cast<size_t>(count));
    std::vector<const char*> paths;
    std::vector<int> modes;
    for (const AccessNeed& need : needs) {
        paths.push_back(need.path.c_str());
        modes.push_back(need.mode);
    }
    int answer[2];
    if (pipe2(answer, O_CLOEXEC) != 0) {
        return {"", std::string("pipe: ") + std::strerror(errno)};
    }
    const pid_t child = fork();
    if (child < 0) {
        close(answer[0]);
        close(answer[1]);
        return {"", std::string("fork: ") + std::strerror(errno)};
    }
    if (child == 0) {
        // Raw system calls: glibc's wrappers would try to change the credentials of threads the
        // child does not have. The parent's other threads do not exist here.
        int result[2] = {-1, 0};  // index of the first refusal, its errno
        if (syscall(SYS_setgroups, groups.size(), groups.data()) != 0 ||
            syscall(SYS_setresgid, gid, gid, gid) != 0 ||
            syscall(SYS_setresuid, uid, uid, uid) != 0) {
            result[0] = -2;
            result[1] = errno;
        } else {
            for (size_t i = 0; i < paths.size(); ++i) {
                if (access(paths[i], modes[i]) != 0) {
                    result[0] = static_cast<int>(i);
                    result[1] = errno;
                    break;
                }
            }
        }
        (void)!write(answer[1], result, sizeof result);
        _exit(0);
    }
    close(answer[1]);
    int result[2] = {-3, 0};
    const ssize_t got = read(answer[0], result, sizeof result);
    close(answer[0]);
    waitpid(child, nullptr, 0);
    if (got != static_cast<ssize_t>(sizeof result) || result[0] < -1) {
        return {"", "cannot take the identity of " + user + ": " +
                        (result[1] != 0 ? std::strerror(result[1]) : "the check did not answer")};
    }
    if (result[0] == -1) {
        return {};
    }
    return {needs[static_cast<size_t>(result[0])].path, std::strerror(result[1])};
}

std::string broker_files_problem(const std::string& user, const std::string& broker_dir) {
    std::vector<AccessNeed> needs = reach(broker_dir, R_OK | W_OK | X_OK);
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(broker_dir, ec)) {
        needs.push_back(
            {entry.path().string(), entry.is_directory(ec) ? R_OK | W_OK | X_OK : R_OK | W_OK});
    }
    const Denied denied = first_denied(user, needs);
    if (!denied.denied()) {
        return "";
    }
    const std::string who = "mosquitto, started by root, runs as the user " + user;
    if (denied.path.empty()) {
        return who + ", and the hub cannot check what that user may reach: " + denied.reason;
    }
    const fs::path inside = fs::absolute(broker_dir).lexically_normal();
    if (fs::path(denied.path).lexically_relative(inside).string().rfind("..", 0) == 0) {
        return who + ", which cannot reach " + inside.string() + ": the directory " + denied.path +
               " does not let it through (" + denied.reason + "). Let it through with `chmod o+x " +
               denied.path + "` (or `chgrp " + user + " " + denied.path + " && chmod g+x " +
               denied.path +
               "`), or choose a data directory below directories every user may traverse "
               "(such as /var/lib/vigil)";
    }
    return who + ", which cannot use " + denied.path + " (" + denied.reason +
           "): give the broker's files back to it with `chown -R " + user + ": " + inside.string() +
           "`";
}

}  // namespace vigil::hub::broker_detail
