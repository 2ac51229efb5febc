// API tokens: random bearer secrets of which the hub keeps only SHA-256 hashes, each with a name
// and a role.
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
    /// Unique, 1-64 characters of A-Z a-z 0-9 . _ -; recorded as who acknowledged an alert.
    std::string name;
    Role role = Role::Read;
    std::string sha256_hex;
    int64_t created_ms = 0;
    /// The latest request it authorised; kept in memory and written with the file (when tokens
    /// change and when the server stops), so it may lag after a crash.
    std::optional<int64_t> last_used_ms;
};

/// 1-64 characters of A-Z a-z 0-9 . _ -
bool valid_token_name(const std::string& name);

/// The outcome of a change to the tokens; `error` says why it failed.
enum class TokenChange : uint8_t {
    Done,
    BadName,    ///< the name breaks valid_token_name()
    Exists,     ///< a token of that name exists
    NotFound,   ///< no token of that name
    LastAdmin,  ///< the change would leave no admin token
    Failed,     ///< the file could not be written (or no random bytes)
};

/// Tokens kept in one JSON file (<data_dir>/api-tokens.json, mode 0600). A file rather than the
/// store: the tokens guard the API, so they must not depend on the store being reachable, and
/// they are the API's own concern, not telemetry. Every change rewrites the file atomically before
/// it takes effect.
class TokenStore {
  public:
    explicit TokenStore(std::string data_dir) : data_dir_(std::move(data_dir)) {}

    /// Loads the file; when there is none, creates it with one admin token (named "admin"),
    /// writes that token to <data_dir>/admin.token (0600) and returns it in `first_admin` (empty
    /// otherwise). A file that cannot be read or is damaged is an error naming it: it is never
    /// replaced, since that would hand out a new admin token to whoever restarts the hub.
    bool load_or_create(int64_t now_ms, std::string& first_admin, std::string& error);

    /// Creates a token and stores its hash; `secret` is the token itself (shown once).
    TokenChange create(const std::string& name, Role role, int64_t now_ms, std::string& secret,
                       TokenRecord& record, std::string& error);

    /// Forgets the token at once. The last admin token cannot be revoked. When <data_dir>/
    /// admin.token holds the revoked token, that file is removed too.
    TokenChange revoke(const std::string& name, std::string& error);

    /// Every token, in the order they were created.
    std::vector<TokenRecord> list() const;

    /// The token whose hash matches, compared in constant time against every stored hash; its
    /// last use becomes now_ms.
    std::optional<TokenRecord> authenticate(const std::string& secret, int64_t now_ms);

    /// Writes the last-use times out when they changed since the file was written.
    bool save_usage(std::string& error);

    std::string path() const;

  private:
    bool save(const std::vector<TokenRecord>& tokens, std::string& error) const;
    TokenChange create_locked(const std::string& name, Role role, int64_t now_ms,
                              std::string& secret, TokenRecord& record, std::string& error);
    bool load(const std::string& text, std::string& error);

    std::string data_dir_;
    mutable std::mutex mutex_;
    std::vector<TokenRecord> tokens_;
    bool usage_unsaved_ = false;
};

/// 32 random bytes from OpenSSL's CSPRNG, as 64 hex digits; empty on failure.
std::string random_hex32();
std::string sha256_hex(const std::string& text);
/// Writes `content` to `path` with mode 0600 through a temporary file in the same directory,
/// fsync and rename (then fsync of the directory), so a reader never sees half a file and a crash
/// leaves the old file or the new one.
bool write_private_file(const std::string& path, const std::string& content, std::string& error);

}  // namespace vigil::hub::api
