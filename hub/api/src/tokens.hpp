// API tokens: random bearer secrets of which the hub keeps only SHA-256 hashes, with a role each.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vigil::hub::api {

enum class Role : uint8_t { Read = 0, Admin = 1 };
const char* to_string(Role role);  ///< "read", "admin"
std::optional<Role> parse_role(const std::string& name);

struct TokenRecord {
    std::string id;  ///< public name of the token ("t1"), recorded as who acknowledged an alert
    Role role = Role::Read;
    std::string sha256_hex;
    int64_t created_ms = 0;
};

/// Tokens kept in one JSON file (<data_dir>/api-tokens.json, mode 0600). A file rather than the
/// store: the tokens guard the API, so they must not depend on the store being reachable, and
/// they are the API's own concern, not telemetry.
class TokenStore {
  public:
    explicit TokenStore(std::string data_dir) : data_dir_(std::move(data_dir)) {}

    /// Loads the file; when there is none, creates it with one admin token, writes that token to
    /// <data_dir>/admin.token (0600) and returns it in `first_admin` (empty otherwise).
    bool load_or_create(int64_t now_ms, std::string& first_admin, std::string& error);

    /// Creates a token of `role`, stores its hash; returns the secret (shown once).
    bool create(Role role, int64_t now_ms, std::string& secret, TokenRecord& record,
                std::string& error);

    /// The token whose hash matches, compared in constant time against every stored hash.
    std::optional<TokenRecord> find(const std::string& secret) const;

  private:
    bool create_locked(Role role, int64_t now_ms, std::string& secret, TokenRecord& record,
                       std::string& error);
    bool save(const std::vector<TokenRecord>& tokens, std::string& error) const;

    std::string data_dir_;
    mutable std::mutex mutex_;
    std::vector<TokenRecord> tokens_;
};

/// 32 random bytes from OpenSSL's CSPRNG, as 64 hex digits; empty on failure.
std::string random_hex32();
std::string sha256_hex(const std::string& text);
/// Writes `content` to `path` with mode 0600 through a temporary file and rename, so a reader
/// never sees half a file.
bool write_private_file(const std::string& path, const std::string& content, std::string& error);

}  // namespace vigil::hub::api
