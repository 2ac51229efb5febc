#include "store_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "vigil/hub/sqlite/schema.hpp"

namespace vigil::hub::sqlite {

namespace {

/// Problems quick_check lists at most: the first few say what is wrong, the rest only how much.
constexpr int kProblemsListed = 5;
/// SQLite virtual machine steps between two looks at the clock during the check.
constexpr int kStepsBetweenClockReads = 1000;

std::string fresh_start_hint(const std::string& path) {
    return "to start with an empty store instead, move " + path + " (with " + path + "-wal and " +
           path + "-shm when present) out of the data directory";
}

bool file_exists(const std::string& path) {
    struct stat st {};
    return lstat(path.c_str(), &st) == 0;
}

void remove_store_files(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::remove((path + suffix).c_str());
    }
}

// The rename is durable only once the directory that holds the name is on disk.
bool sync_directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    const bool synced = fsync(fd) == 0;
    close(fd);
    return synced;
}

struct Deadline {
    std::chrono::steady_clock::time_point end;
    bool reached = false;
};

int stop_at_deadline(void* context) {
    auto* deadline = static_cast<Deadline*>(context);
    deadline->reached = std::chrono::steady_clock::now() >= deadline->end;
    return deadline->reached ? 1 : 0;
}

std::string damaged(const std::string& path, const std::string& found) {
    return path + " is damaged (PRAGMA quick_check: " + found +
           "), and vigil-hub does not run on a damaged store. Keep a copy of it first; then "
           "restore it from a backup, or save what SQLite can still read with `sqlite3 " +
           path + " .recover | sqlite3 " + path + ".recovered` and, once checked, move " + path +
           ".recovered in its place (without the old -wal and -shm files); or, " +
           fresh_start_hint(path);
}

}  // namespace

// SQLite says "unable to open database file" for most reasons; the directory is the usual one.
std::string explain_open_failure(const std::string& path, const std::string& reason) {
    const auto slash = path.rfind('/');
    const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    if (access(directory.c_str(), W_OK) != 0) {
        return path + ": " + reason + "; the directory " + directory +
               " is not writable: " + std::strerror(errno);
    }
    return path + ": " + reason;
}

bool inspect_store_file(const std::string& path, StoreFile& found, std::string& error) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        if (errno != ENOENT) {
            error = path + ": " + std::strerror(errno);
            return false;
        }
        // SQLite would rebuild a store from the log alone: only the pages the log holds.
        if (file_exists(path + "-wal")) {
            error = path + "-wal is there without its store " + path +
                    ": the store was moved or deleted while a hub used it. Put the store back, "
                    "or, " +
                    fresh_start_hint(path);
            return false;
        }
        found = StoreFile::Missing;
        return true;
    }
    if (!S_ISREG(st.st_mode)) {
        error = path + " is not a regular file";
        return false;
    }
    // SQLite takes an empty file for an empty database and would build a fresh store in it: the
    // file may be a store whose content was lost (a bad copy, a full disk), which nobody would
    // then be told.
    if (st.st_size == 0) {
        error = path +
                " is empty (0 bytes), and vigil-hub never makes a fresh store over an existing "
                "file: it may be a store whose content was lost. Restore it from a backup, or, " +
                fresh_start_hint(path);
        return false;
    }
    found = StoreFile::Present;
    return true;
}

bool create_store_file(const SqliteOptions& options, std::string& error) {
    const std::string building = options.path + ".creating";
    remove_store_files(building);  // left by a hub that died while creating
    {
        Connection connection;
        const std::string page_size =
            "PRAGMA page_size = " + std::to_string(options.page_size_bytes);
        if (!connection.open(building, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error) ||
            !connection.execute(page_size.c_str(), error) ||
            !migrate(connection, kSchemaVersion, error) ||
            !connection.execute("PRAGMA journal_mode = WAL", error)) {
            error = explain_open_failure(building, error);
            remove_store_files(building);
            return false;
        }
    }  // closed: everything is in the file itself, and its log is gone
    if (rename(building.c_str(), options.path.c_str()) != 0 || !sync_directory_of(options.path)) {
        error = "cannot move " + building + " to " + options.path + ": " + std::strerror(errno);
        remove_store_files(building);
        return false;
    }
    return true;
}

CheckResult quick_check(Connection& connection, const std::string& path, uint32_t time_limit_ms,
                        std::string& error) {
    Deadline deadline{std::chrono::steady_clock::now() + std::chrono::milliseconds(time_limit_ms)};
    sqlite3* db = connection.handle();
    sqlite3_progress_handler(db, kStepsBetweenClockReads, &stop_at_deadline, &deadline);
    const std::string sql = "PRAGMA quick_check(" + std::to_string(kProblemsListed) + ")";
    sqlite3_stmt* statement = nullptr;
    int status = sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr);
    std::vector<std::string> problems;
    while (status == SQLITE_OK || status == SQLITE_ROW) {
        status = sqlite3_step(statement);
        if (status == SQLITE_ROW) {
            const auto* text = sqlite3_column_text(statement, 0);
            std::string problem = text ? reinterpret_cast<const char*>(text) : "";
            for (char& c : problem) {
                c = c == '\n' ? ' ' : c;  // one problem, one line
            }
            problems.push_back(std::move(problem));
        }
    }
    const std::string failure = sqlite3_errmsg(db);
    sqlite3_finalize(statement);
    sqlite3_progress_handler(db, 0, nullptr, nullptr);
    if (deadline.reached) {
        return CheckResult::CutShort;
    }
    if (status != SQLITE_DONE) {
        error = damaged(path, failure);
        return CheckResult::Damaged;
    }
    if (problems.size() == 1 && problems[0] == "ok") {
        return CheckResult::Passed;
    }
    std::string found;
    for (const std::string& problem : problems) {
        found += (found.empty() ? "" : "; ") + problem;
    }
    if (problems.size() >= static_cast<size_t>(kProblemsListed)) {
        found += "; and maybe more";
    }
    error = damaged(path, found);
    return CheckResult::Damaged;
}

}  // namespace vigil::hub::sqlite
