#include "context.hpp"

#include <cstdlib>
#include <fstream>

namespace vigil::cli {

namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

}  // namespace

int fail(const std::string& message) {
    std::cerr << "vigil: " << message << "\n";
    return kFailed;
}

int usage(const std::string& message) {
    std::cerr << "vigil: " << message << "\n";
    return kUsage;
}

void resolve_token(Context& context) {
    if (!context.token_flag.empty()) {
        context.hub.token = context.token_flag;
        context.hub.token_source = "--token";
        return;
    }
    if (!env("VIGIL_TOKEN").empty()) {
        context.hub.token = env("VIGIL_TOKEN");
        context.hub.token_source = "VIGIL_TOKEN";
        return;
    }
    const std::string path = context.data_dir + "/admin.token";
    std::ifstream in(path);
    std::string token;
    if (in && std::getline(in, token) && !token.empty()) {
        context.hub.token = token;
        context.hub.token_source = path;
    }
}

}  // namespace vigil::cli
