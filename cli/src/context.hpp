// What every command of the command line shares: the global options, the exit codes, and one
// request to the hub printed either as JSON (--json) or for people.
#pragma once

#include <iostream>
#include <string>

#include "hub_client.hpp"

namespace vigil::cli {

/// 0 done, 1 the hub or the input refused (or could not be reached), 2 the command line was wrong.
constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

struct Context {
    HubOptions hub;
    std::string data_dir;
    std::string token_flag;
    bool json = false;
    /// Set by the command that ran; a command line that named none keeps kUsage.
    int exit_code = kUsage;
};

/// Prints "vigil: <message>" to stderr; returns kFailed.
int fail(const std::string& message);
/// Prints "vigil: <message>" to stderr; returns kUsage.
int usage(const std::string& message);

/// The token to send: --token, then VIGIL_TOKEN, then <data>/admin.token (the file the hub writes
/// on first start).
void resolve_token(Context& context);

/// Runs one request; prints its JSON with --json, else hands the body to `human`.
template <typename Human>
int request(const Context& context, const std::string& method, const std::string& path,
            const std::string& body, Human human) {
    const Answer answer = call_hub(context.hub, method, path, body);
    if (!answer.ok) {
        return fail(answer.message);
    }
    if (context.json) {
        std::cout << (answer.body.is_null() ? "{}" : answer.body.dump(2)) << "\n";
        return kOk;
    }
    human(answer.body);
    return kOk;
}

}  // namespace vigil::cli
