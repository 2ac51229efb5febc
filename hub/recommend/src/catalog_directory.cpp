#include "vigil/hub/recommend/catalog_directory.hpp"

#include <atomic>
#include <fstream>
#include <sstream>

namespace vigil::hub::recommend {

// Generated from hub/recommend/data/vulnerabilities.toml at build time (CMakeLists.txt).
extern const unsigned char kBuiltInCatalog[];
extern const size_t kBuiltInCatalogSize;

namespace {

/// A drop-in is read whole into memory; a larger file is refused unread.
constexpr uintmax_t kMaxDropInBytes = 4 * 1024 * 1024;

bool is_drop_in_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

}  // namespace

bool drop_in_name(const std::string& name) {
    constexpr std::string_view kSuffix = ".toml";
    if (name.size() <= kSuffix.size() || name.size() > 128 || name[0] == '.' ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
        return false;
    }
    for (char c : name) {
        if (!is_drop_in_char(c)) {
            return false;
        }
    }
    return true;
}

std::shared_ptr<const VulnerabilityCatalog> built_in_catalog() {
    static const std::shared_ptr<const VulnerabilityCatalog> catalog = [] {
        std::vector<detect::PolicyError> errors;
        auto parsed = VulnerabilityCatalog::parse(
            std::string_view(reinterpret_cast<const char*>(kBuiltInCatalog), kBuiltInCatalogSize),
            "vulnerabilities.toml", errors);
        // The build's test (hub_recommend) refuses a shipped file with errors; an empty
        // catalog here would only mean no firmware findings.
        return std::make_shared<const VulnerabilityCatalog>(
            parsed.value_or(VulnerabilityCatalog{}));
    }();
    return catalog;
}

std::optional<VulnerabilityCatalog> parse_drop_in(std::string_view text, const std::string& name,
                                                  std::vector<detect::PolicyError>& errors) {
    return VulnerabilityCatalog::parse(text, name, errors, built_in_catalog().get());
}

CatalogDirectory::CatalogDirectory(std::filesystem::path directory)
    : directory_(std::move(directory)), snapshot_(built_in_catalog()) {}

bool CatalogDirectory::reload_if_changed() {
    std::vector<detect::FileStamp> now = detect::stamp_directory(directory_, drop_in_name);
    if (ever_loaded_ && now == loaded_) {
        return false;
    }
    VulnerabilityCatalog merged = *built_in_catalog();
    std::vector<CatalogFileError> errors;
    for (const detect::FileStamp& stamp : now) {
        const std::filesystem::path path = directory_ / stamp.name;
        std::vector<detect::PolicyError> file_errors;
        if (stamp.size > kMaxDropInBytes) {
            file_errors.push_back({1, 1, "larger than 4 MiB"});
        } else {
            std::ifstream in(path, std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            if (!in) {
                file_errors.push_back({0, 0, "cannot be read"});
            } else if (auto drop_in = parse_drop_in(text.str(), stamp.name, file_errors)) {
                merged.merge(*drop_in);
            }
        }
        for (detect::PolicyError& error : file_errors) {
            errors.push_back({path.string(), std::move(error)});
        }
    }
    std::atomic_store(&snapshot_, std::shared_ptr<const VulnerabilityCatalog>(
                                      std::make_shared<const VulnerabilityCatalog>(merged)));
    {
        std::lock_guard<std::mutex> lock(errors_mutex_);
        errors_ = std::move(errors);
    }
    loaded_ = std::move(now);
    ever_loaded_ = true;
    return true;
}

std::vector<DropInFile> CatalogDirectory::drop_ins() const {
    std::vector<DropInFile> files;
    for (const detect::FileStamp& stamp : detect::stamp_directory(directory_, drop_in_name)) {
        DropInFile& file = files.emplace_back();
        file.name = stamp.name;
        if (stamp.size > kMaxDropInBytes) {
            file.errors.push_back({1, 1, "larger than 4 MiB"});
            continue;
        }
        std::ifstream in(directory_ / stamp.name, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in) {
            file.errors.push_back({0, 0, "cannot be read"});
        } else if (auto drop_in = parse_drop_in(text.str(), stamp.name, file.errors)) {
            file.entries = drop_in->vulnerabilities().size();
        }
    }
    return files;
}

DropInInstall CatalogDirectory::install(const std::string& name, std::string_view text) const {
    DropInInstall done;
    if (!drop_in_name(name)) {
        done.errors.push_back({0, 0,
                               "not a drop-in's name: letters, digits, '-', '_' and '.', "
                               "not starting with '.', ending in .toml, at most 128 bytes"});
        return done;
    }
    if (text.size() > kMaxDropInBytes) {
        done.errors.push_back({1, 1, "larger than 4 MiB"});
        return done;
    }
    const std::optional<VulnerabilityCatalog> drop_in = parse_drop_in(text, name, done.errors);
    if (!drop_in) {
        return done;
    }
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
    // The temporary name is no drop-in's (it starts with '.'), so a reload never reads it half
    // written.
    const std::filesystem::path temporary = directory_ / ("." + name + ".new");
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        out.close();
        if (!out) {
            std::filesystem::remove(temporary, ec);
            done.unavailable = true;
            done.errors.push_back({0, 0, "cannot write " + temporary.string()});
            return done;
        }
    }
    std::filesystem::rename(temporary, directory_ / name, ec);
    if (ec) {
        std::filesystem::remove(temporary, ec);
        done.unavailable = true;
        done.errors.push_back({0, 0, "cannot write " + (directory_ / name).string()});
        return done;
    }
    done.installed = true;
    done.entries = drop_in->vulnerabilities().size();
    return done;
}

std::shared_ptr<const VulnerabilityCatalog> CatalogDirectory::snapshot() const {
    return std::atomic_load(&snapshot_);
}

std::vector<CatalogFileError> CatalogDirectory::errors() const {
    std::lock_guard<std::mutex> lock(errors_mutex_);
    return errors_;
}

}  // namespace vigil::hub::recommend
