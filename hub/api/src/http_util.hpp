// Small helpers the route handlers share: JSON answers, errors as {error, detail}, and checked
// reading of bodies and query parameters.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vigil::hub::api {

/// The longest reason a person may give (a suppression, a dismissed recommendation).
constexpr size_t kMaxReasonBytes = 1000;

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
/// {error: code, detail}; `code` is stable (clients test it), `detail` is for people.
void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& detail);
/// True, with 500 store_error answered, when a store query or write (Fetched, Done) failed.
template <typename StoreResult>
bool store_failed(httplib::Response& res, const StoreResult& result) {
    if (result.ok()) {
        return false;
    }
    send_error(res, 500, "store_error", result.error);
    return true;
}

/// Parses the body as JSON (nesting at most 32 deep); on failure answers 400 malformed_json
/// with the parser's reason and returns false.
bool parse_body(const httplib::Request& req, httplib::Response& res, nlohmann::json& out);

/// Reads query parameters. The first bad one answers 400 bad_parameter naming it; handlers
/// check ok() once after reading them all.
class QueryReader {
  public:
    QueryReader(const httplib::Request& req, httplib::Response& res) : req_(req), res_(res) {}

    std::optional<int64_t> integer(const char* name, int64_t low, int64_t high);
    std::optional<std::string> text(const char* name);
    /// "true" or "false"; false when absent.
    bool flag(const char* name);
    /// One of `choices` (nullptr-terminated); its index.
    std::optional<size_t> choice(const char* name, const char* const* choices);
    /// One of `values`, by the model's name for it (to_string).
    template <typename Enum>
    std::optional<Enum> named(const char* name, std::initializer_list<Enum> values) {
        std::vector<const char*> names;
        for (Enum value : values) {
            names.push_back(to_string(value));
        }
        names.push_back(nullptr);
        const std::optional<size_t> index = choice(name, names.data());
        if (!index) {
            return std::nullopt;
        }
        return values.begin()[*index];
    }
    bool ok() const { return ok_; }

  private:
    void fail(const std::string& detail);

    const httplib::Request& req_;
    httplib::Response& res_;
    bool ok_ = true;
};

}  // namespace vigil::hub::api
