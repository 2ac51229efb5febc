#include "tokens.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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
    return {{"id", token.id},
            {"role", to_string(token.role)},
            {"sha256", token.sha256_hex},
            {"created_ms", token.created_ms}};
}

bool from_json(const nlohmann::json& item, TokenRecord& token) {
    if (!item.is_object() || !item.contains("id") || !item.contains("role") ||
        !item.contains("sha256") || !item["id"].is_string() || !item["role"].is_string() ||
        !item["sha256"].is_string()) {
        return false;
    }
    const auto role = parse_role(item["role"].get<std::string>());
    if (!role) {
        return false;
    }
    token.id = item["id"].get<std::string>();
    token.role = *role;
    token.sha256_hex = item["sha256"].get<std::string>();
    token.created_ms = item.value("created_ms", int64_t{0});
    return token.sha256_hex.size() == 64;
}

std::string next_id(const std::vector<TokenRecord>& tokens) {
    return "t" + std::to_string(tokens.size() + 1);
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

bool write_private_file(const std::string& path, const std::string& content, std::string& error) {
    const std::string temporary = path + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = "cannot create " + temporary + ": " + std::strerror(errno);
        return false;
    }
    size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            error = "cannot write " + temporary + ": " + std::strerror(errno);
            ::close(fd);
            return false;
        }
        written += static_cast<size_t>(n);
    }
    // Durable before it replaces the old file: a crash must not leave an empty token file.
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        error = "cannot write " + temporary + ": " + std::strerror(errno);
        return false;
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        error = "cannot rename " + temporary + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

bool TokenStore::save(const std::vector<TokenRecord>& tokens, std::string& error) const {
    nlohmann::json list = nlohmann::json::array();
    for (const TokenRecord& token : tokens) {
        list.push_back(to_json(token));
    }
    const nlohmann::json document = {{"tokens", list}};
    return write_private_file(data_dir_ + kTokensFile, document.dump(2) + "\n", error);
}

bool TokenStore::load_or_create(int64_t now_ms, std::string& first_admin, std::string& error) {
    first_admin.clear();
    std::ifstream in(data_dir_ + kTokensFile);
    if (!in) {
        std::lock_guard<std::mutex> lock(mutex_);
        tokens_.clear();
        TokenRecord record;
        if (!create_locked(Role::Admin, now_ms, first_admin, record, error)) {
            return false;
        }
        return write_private_file(data_dir_ + kAdminTokenFile, first_admin + "\n", error);
    }
    std::stringstream text;
    text << in.rdbuf();
    const nlohmann::json document = nlohmann::json::parse(text.str(), nullptr, false);
    if (document.is_discarded() || !document.is_object() || !document.contains("tokens") ||
        !document["tokens"].is_array()) {
        error = data_dir_ + kTokensFile + " is not a token file";
        return false;
    }
    std::vector<TokenRecord> tokens;
    for (const nlohmann::json& item : document["tokens"]) {
        TokenRecord token;
        if (!from_json(item, token)) {
            error = data_dir_ + kTokensFile + " holds an unreadable token entry";
            return false;
        }
        tokens.push_back(token);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    tokens_ = std::move(tokens);
    return true;
}

bool TokenStore::create(Role role, int64_t now_ms, std::string& secret, TokenRecord& record,
                        std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    return create_locked(role, now_ms, secret, record, error);
}

bool TokenStore::create_locked(Role role, int64_t now_ms, std::string& secret, TokenRecord& record,
                               std::string& error) {
    const std::string random = random_hex32();
    if (random.empty()) {
        error = "no random bytes for a token";
        return false;
    }
    secret = kTokenPrefix + random;
    std::vector<TokenRecord> next = tokens_;
    record = TokenRecord{next_id(next), role, sha256_hex(secret), now_ms};
    next.push_back(record);
    if (!save(next, error)) {
        return false;
    }
    tokens_ = std::move(next);
    return true;
}

std::optional<TokenRecord> TokenStore::find(const std::string& secret) const {
    const std::string hash = sha256_hex(secret);
    std::lock_guard<std::mutex> lock(mutex_);
    std::optional<TokenRecord> found;
    // Every stored hash is compared, in constant time, so the answer's timing says nothing about
    // which token (or how much of a hash) matched.
    for (const TokenRecord& token : tokens_) {
        const bool same = token.sha256_hex.size() == hash.size() &&
                          CRYPTO_memcmp(token.sha256_hex.data(), hash.data(), hash.size()) == 0;
        if (same) {
            found = token;
        }
    }
    return found;
}

}  // namespace vigil::hub::api
