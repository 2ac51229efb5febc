#include "vigil/hub/detect/directory_stamps.hpp"

#include <algorithm>

namespace vigil::hub::detect {

std::vector<FileStamp> stamp_directory(const std::filesystem::path& directory,
                                       const std::function<bool(const std::string&)>& takes) {
    std::vector<FileStamp> result;
    std::error_code error;
    for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
        const std::string name = it->path().filename().string();
        if (!takes(name)) {
            continue;
        }
        std::error_code stat_error;
        result.push_back({name, it->file_size(stat_error), it->last_write_time(stat_error)});
    }
    std::sort(result.begin(), result.end(),
              [](const FileStamp& a, const FileStamp& b) { return a.name < b.name; });
    return result;
}

}  // namespace vigil::hub::detect
