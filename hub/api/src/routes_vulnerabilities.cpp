// The vulnerability catalogs: list them, and install a drop-in without a restart.
#include "http_util.hpp"
#include "server_impl.hpp"

namespace vigil::hub {

void ApiServer::Impl::add_vulnerability_routes() {
    route("GET", "/api/vulnerabilities", "/api/vulnerabilities",
          [this](const HttpRequest&, HttpResponse& res) {
              nlohmann::json files = nlohmann::json::array();
              for (const VulnerabilityFile& file : control_.vulnerability_files()) {
                  files.push_back({{"name", file.name},
                                   {"built_in", file.built_in},
                                   {"entries", file.entries},
                                   {"error", file.error.empty() ? nlohmann::json(nullptr)
                                                                : nlohmann::json(file.error)}});
              }
              api::send_json(res, 200, {{"files", files}});
          });
    // The name is one path segment; the hub checks it is a drop-in's name (no traversal).
    route("PUT", "/api/vulnerabilities/([^/]+)", "/api/vulnerabilities/{name}",
          [this](const HttpRequest& req, HttpResponse& res) {
              const std::string name = req.matches[1];
              const VulnerabilityInstall done = control_.install_vulnerability_file(name, req.body);
              if (done.installed) {
                  api::send_json(res, 200, {{"name", name}, {"entries", done.entries}});
                  return;
              }
              nlohmann::json errors = nlohmann::json::array();
              std::string first;
              for (const VulnerabilityInstall::Error& error : done.errors) {
                  errors.push_back(
                      {{"line", error.line}, {"column", error.column}, {"message", error.message}});
                  if (first.empty()) {
                      first = error.line > 0
                                  ? std::to_string(error.line) + ":" +
                                        std::to_string(error.column) + ": " + error.message
                                  : error.message;
                  }
              }
              api::send_json(res, done.unavailable ? 503 : 400,
                             {{"error", done.unavailable ? "unavailable" : "invalid"},
                              {"detail", name + ": " + first},
                              {"errors", errors}});
          });
}

}  // namespace vigil::hub
