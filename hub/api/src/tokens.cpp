#include "tokens.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace vigil::hub::api {

namespace {

constexpr char kTokensFile[] = "/api-tokens.json";
constexpr char kAdminTokenFile[] = "/admin.token";
// Tokens carry a prefix so that one pasted in the wrong place (a log, a repository) is easy to
// recognise and search for.
constexpr char kTokenPrefix[] = "vigil_";

std::string to_hex(const unsigned char* bytes, size_t length) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (size_t i = 0; i < length; ++i) {
        out.push_back(digits[bytes[i] >> 4]);
        out.push_back(digits[bytes[i] & 0x0F]);
    }
    return out;
}

nlohmann::json to_json(const TokenRecord& token) {
    nlohmann::json out = {{"name", token.name},
                          {"role", to_string(token.role)},
                          {"sha256", token.sha256_hex},
                          {"created_ms", token.created_ms}};
    if (token.last_used_ms) {
        out["last_used_ms"] = *token.last_used_ms;
    }
    return out;
}

bool is_hex(const std::string& text) {
    return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Files written before tokens had names call the name "id" ("t1").
bool from_json(const nlohmann::json& item, TokenRecord& token, std::string& why) {
    if (!item.is_object()) {
        why = "is not an object";
        return false;
    }
    const char* name_key = item.contains("name") ? "name" : "id";
    if (!item.contains(name_key) || !item[name_key].is_string() ||
        !valid_token_name(item[name_key].get<std::string>())) {
        why = "has no valid \"name\" (1-64 characters of A-Z a-z 0-9 . _ -)";
        return false;
    }
    token.name = item[name_key].get<std::string>();
    const auto role = item.contains("role") && item["role"].is_string()
                          ? parse_role(item["role"].get<std::string>())
                          : std::nullopt;
    if (!role) {
        why = "(\"" + token.name + "\") has no valid \"role\" (read or admin)";
        return false;
    }
    token.role = *role;
    if (!item.contains("sha256") || !item["sha256"].is_string() ||
        item["sha256"].get<std::string>().size() != 64 ||
        !is_hex(item["sha256"].get<std::string>())) {
        why = "(\"" + token.name + "\") has no valid \"sha256\" (64 lower-case hex digits)";
        return false;
    }
    token.sha256_hex = item["sha256"].get<std::string>();
    for (const char* key : {"created_ms", "last_used_ms"}) {
        if (item.contains(key) && !item[key].is_number_integer()) {
            why = "(\"" + token.name + "\") has a \"" + key + "\" that is not an integer";
            return false;
        }
    }
    token.created_ms = item.value("created_ms", int64_t{0});
    if (item.contains("last_used_ms")) {
        token.last_used_ms = item["last_used_ms"].get<int64_t>();
    }
    return true;
}

size_t admin_count(const std::vector<TokenRecord>& tokens) {
    size_t admins = 0;
    for (const TokenRecord& token : tokens) {
        admins += token.role == Role::Admin ? 1 : 0;
    }
    return admins;
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

const char* to_string(Role role) {
    return role == Role::Admin ? "admin" : "read";
}

std::optional<Role> parse_role(const std::string& name) {
    if (name == "admin") {
        return Role::Admin;
    }
    if (name == "read") {
        return Role::Read;
    }
    return std::nullopt;
}

std::string random_hex32() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        return "";
    }
    return to_hex(bytes, sizeof bytes);
}

std::string sha256_hex(const std::string& text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        return "";
    }
    return to_hex(digest, length);
}

bool valid_token_name(const std::string& name) {
    if (name.empty() || name.size() > 64) {
        return false;
    }
    for (const char c : name) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!allowed) {
            return false;
        }
    }
    return true;
}

bool write_private_file(const std::string& path, const std::string& content, std::string& error) {
    // mkstemp creates the file 0600 under a name of its own: a temporary file left by a crash
    // (or planted with wider permissions) is never reused.
    std::string temporary = path + ".XXXXXX";
    const int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
    if (fd < 0) {
        error = "cannot create a temporary file next to " + path + ": " + std::strerror(errno);
        return false;
    }
    const auto fail = [&](const std::string& what) {
        error = what + " " + temporary + ": " + std::strerror(errno);
        ::close(fd);
        ::unlink(temporary.c_str());
        return false;
    };
    if (::fchmod(fd, 0600) != 0) {
        return fail("cannot set the mode of");
    }
    size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return fail("cannot write");
        }
        written += static_cast<size_t>(n);
    }
    // Durable before it replaces the old file: a crash must not leave an empty token file.
    if (::fsync(fd) != 0) {
        return fail("cannot write");
    }
    if (::close(fd) != 0) {
        error = "cannot write " + temporary + ": " + std::strerror(errno);
        ::unlink(temporary.c_str());
        return false;
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        error = "cannot rename " + temporary + " to " + path + ": " + std::strerror(errno);
        ::unlink(temporary.c_str());
        return false;
    }
    // The rename itself is durable only once the directory is.
    const std::string directory = directory_of(path);
    const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    return true;
}

std::string TokenStore::path() const {
    return data_dir_ + kTokensFile;
}

bool TokenStore::save(const std::vector<TokenRecord>& tokens, std::string& error) const {
    nlohmann::json list = nlohmann::json::array();
    for (const TokenRecord& token : tokens) {
        list.push_back(to_json(token));
    }
    const nlohmann::json document = {{"tokens", list}};
    return write_private_file(path(), document.dump(2) + "\n", error);
}

bool TokenStore::load_or_create(int64_t now_ms, std::string& first_admin, std::string& error) {
    first_admin.clear();
    const int fd = ::open(path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        std::lock_guard<std::mutex> lock(mutex_);
        tokens_.clear();
        TokenRecord record;
        if (create_locked("admin", Role::Admin, now_ms, first_admin, record, error) !=
            TokenChange::Done) {
            return false;
        }
        return write_private_file(data_dir_ + kAdminTokenFile, first_admin + "\n", error);
    }
    if (fd < 0) {
        error = "cannot read the API token file " + path() + ": " + std::strerror(errno);
        return false;
    }
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            error = "cannot read the API token file " + path() + ": " + std::strerror(errno);
            ::close(fd);
            return false;
        }
        if (n == 0) {
            break;
        }
        text.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    if (!load(text, error)) {
        error = "the API token file " + path() + " " + error +
                "; the hub does not replace it: restore it, or remove it to have a new admin "
                "token created (every other token is then lost)";
        return false;
    }
    return true;
}

bool TokenStore::load(const std::string& text, std::string& error) {
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& parse_error) {
        error = std::string("is not valid JSON (") + parse_error.what() + ")";
        return false;
    }
    if (!document.is_object() || !document.contains("tokens") || !document["tokens"].is_array()) {
        error = "is not a token file (no \"tokens\" list)";
        return false;
    }
    std::vector<TokenRecord> tokens;
    for (size_t i = 0; i < document["tokens"].size(); ++i) {
        TokenRecord token;
        std::string why;
        if (!from_json(document["tokens"][i], token, why)) {
            error = "holds a damaged entry: token " + std::to_string(i) + " " + why;
            return false;
        }
        for (const TokenRecord& earlier : tokens) {
            if (earlier.name == token.name) {
                error = "names two tokens \"" + token.name + "\"";
                return false;
            }
        }
        tokens.push_back(token);
    }
    if (admin_count(tokens) == 0) {
        error = "holds no admin token";
        return false;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    tokens_ = std::move(tokens);
    usage_unsaved_ = false;
    return true;
}

TokenChange TokenStore::create(const std::string& name, Role role, int64_t now_ms,
                               std::string& secret, TokenRecord& record, std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    return create_locked(name, role, now_ms, secret, record, error);
}

TokenChange TokenStore::create_locked(const std::string& name, Role role, int64_t now_ms,
                                      std::string& secret, TokenRecord& record,
                                      std::string& error) {
    if (!valid_token_name(name)) {
        error = "a token name is 1-64 characters of A-Z a-z 0-9 . _ -";
        return TokenChange::BadName;
    }
    for (const TokenRecord& token : tokens_) {
        if (token.name == name) {
            error = "a token named '" + name + "' exists";
            return TokenChange::Exists;
        }
    }
    const std::string random = random_hex32();
    if (random.empty()) {
        error = "no random bytes for a token";
        return TokenChange::Failed;
    }
    secret = kTokenPrefix + random;
    std::vector<TokenRecord> next = tokens_;
    record = TokenRecord{name, role, sha256_hex(secret), now_ms, std::nullopt};
    next.push_back(record);
    if (!save(next, error)) {
        return TokenChange::Failed;
    }
    tokens_ = std::move(next);
    usage_unsaved_ = false;
    return TokenChange::Done;
}

TokenChange TokenStore::revoke(const std::string& name, std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<TokenRecord> next;
    std::optional<TokenRecord> revoked;
    for (const TokenRecord& token : tokens_) {
        if (token.name == name) {
            revoked = token;
        } else {
            next.push_back(token);
        }
    }
    if (!revoked) {
        error = "no token named '" + name + "'";
        return TokenChange::NotFound;
    }
    if (revoked->role == Role::Admin && admin_count(next) == 0) {
        error = "'" + name + "' is the last admin token: create another admin token first";
        return TokenChange::LastAdmin;
    }
    if (!save(next, error)) {
        return TokenChange::Failed;
    }
    tokens_ = std::move(next);
    usage_unsaved_ = false;
    // The command line reads admin.token by default: a dead token left there would only earn
    // its user a 401.
    const std::string admin_file = data_dir_ + kAdminTokenFile;
    std::ifstream in(admin_file);
    std::string first_line;
    if (in && std::getline(in, first_line) && sha256_hex(first_line) == revoked->sha256_hex) {
        in.close();
        ::unlink(admin_file.c_str());
    }
    return TokenChange::Done;
}

std::vector<TokenRecord> TokenStore::list() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return tokens_;
}

std::optional<TokenRecord> TokenStore::authenticate(const std::string& secret, int64_t now_ms) {
    const std::string hash = sha256_hex(secret);
    std::lock_guard<std::mutex> lock(mutex_);
    TokenRecord* found = nullptr;
    // Every stored hash is compared, in constant time, so the answer's timing says nothing about
    // which token (or how much of a hash) matched.
    for (TokenRecord& token : tokens_) {
        const bool same = token.sha256_hex.size() == hash.size() &&
                          CRYPTO_memcmp(token.sha256_hex.data(), hash.data(), hash.size()) == 0;
        if (same) {
            found = &token;
        }
    }
    if (found == nullptr) {
        return std::nullopt;
    }
    if (found->last_used_ms != now_ms) {
        found->last_used_ms = now_ms;
        usage_unsaved_ = true;
    }
    return *found;
}

bool TokenStore::save_usage(std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!usage_unsaved_) {
        return true;
    }
    if (!save(tokens_, error)) {
        return false;
    }
    usage_unsaved_ = false;
    return true;
}

}  // namespace vigil::hub::api
