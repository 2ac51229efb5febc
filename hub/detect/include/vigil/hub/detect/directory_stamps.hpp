// Whether the files of a watched directory changed since they were last read: the name, size and
// modification time of each file a filter takes. The feeds directory and the vulnerability
// catalog's drop-in directory are watched this way.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace vigil::hub::detect {

struct FileStamp {
    std::string name;
    uintmax_t size = 0;
    std::filesystem::file_time_type modified;
    bool operator==(const FileStamp& other) const {
        return name == other.name && size == other.size && modified == other.modified;
    }
};

/// The stamps of the files of `directory` that `takes` (by file name), sorted by name; empty
/// for a directory that is missing or unreadable.
std::vector<FileStamp> stamp_directory(const std::filesystem::path& directory,
                                       const std::function<bool(const std::string&)>& takes);

}  // namespace vigil::hub::detect
