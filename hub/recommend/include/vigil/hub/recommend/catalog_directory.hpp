// The vulnerability catalog in force: the one built into vigil-hub (hub/recommend/data at build
// time) with the drop-in files of a directory (*.toml) merged over it in name order, so entries
// are added or corrected without a new release. A drop-in file with an error is left out whole,
// its errors kept for the log and /metrics; the other files still apply.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vigil/hub/detect/directory_stamps.hpp"
#include "vigil/hub/recommend/vulnerability_catalog.hpp"

namespace vigil::hub::recommend {

/// The catalog built into the program.
std::shared_ptr<const VulnerabilityCatalog> built_in_catalog();

/// A drop-in file as the directory reads it: against the built-in catalog's products.
std::optional<VulnerabilityCatalog> parse_drop_in(std::string_view text, const std::string& name,
                                                  std::vector<detect::PolicyError>& errors);

/// A drop-in file's name: letters, digits, '-', '_' and '.', ending in ".toml".
bool drop_in_name(const std::string& name);

/// A drop-in file as it stands in the directory.
struct DropInFile {
    std::string name;
    size_t entries = 0;
    std::vector<detect::PolicyError> errors;  ///< why it is left out; empty when in force
};

/// Writing a drop-in: the name and the schema checked first.
struct DropInInstall {
    bool installed = false;
    size_t entries = 0;
    std::vector<detect::PolicyError> errors;  ///< the file's (line > 0) or the request's
    bool unavailable = false;                 ///< could not be written
};

struct CatalogFileError {
    std::string file;
    detect::PolicyError error;
};

/// reload_if_changed() is for one thread (the watcher); the rest for any number.
class CatalogDirectory {
  public:
    explicit CatalogDirectory(std::filesystem::path directory);

    /// Reloads when a drop-in file was added, removed or changed since the last load; returns
    /// true when it did.
    bool reload_if_changed();
    std::shared_ptr<const VulnerabilityCatalog> snapshot() const;
    /// The drop-in files the last load left out, with why.
    std::vector<CatalogFileError> errors() const;
    const std::filesystem::path& directory() const { return directory_; }
    /// The drop-ins in the directory now, in name order, each read and checked.
    std::vector<DropInFile> drop_ins() const;
    /// Checks `text` as a drop-in named `name` and, when it holds, writes it into the directory
    /// (whole: a temporary file renamed over it), where the next reload takes it.
    DropInInstall install(const std::string& name, std::string_view text) const;

  private:
    std::filesystem::path directory_;
    std::vector<detect::FileStamp> loaded_;
    bool ever_loaded_ = false;
    std::shared_ptr<const VulnerabilityCatalog> snapshot_;
    mutable std::mutex errors_mutex_;
    std::vector<CatalogFileError> errors_;
};

}  // namespace vigil::hub::recommend
