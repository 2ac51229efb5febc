#include "reader_pool.hpp"

#include <utility>

#include "pragmas.hpp"
#include "sql_functions.hpp"

namespace vigil::hub::sqlite {

ReaderPool::Lease::~Lease() {
    if (connection_) {
        pool_.give_back(std::move(connection_));
    }
}

bool ReaderPool::fill(std::string& error) {
    for (uint32_t i = 0; i < options_.readers; ++i) {
        auto reader = open_reader(error);
        if (!reader) {
            return false;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        idle_.push_back(std::move(reader));
    }
    return true;
}

std::unique_ptr<Connection> ReaderPool::open_reader(std::string& error) {
    auto reader = std::make_unique<Connection>();
    if (!reader->open(options_.path, SQLITE_OPEN_READWRITE, error) ||
        !apply_pragmas(*reader, options_, error) ||
        !reader->execute("PRAGMA query_only = ON", error) || !add_flow_functions(*reader, error)) {
        return nullptr;
    }
    return reader;
}

ReaderPool::Lease ReaderPool::borrow(std::string& error) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!idle_.empty()) {
            auto connection = std::move(idle_.back());
            idle_.pop_back();
            return Lease(*this, std::move(connection));
        }
    }
    return Lease(*this, open_reader(error));
}

void ReaderPool::give_back(std::unique_ptr<Connection> connection) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < options_.readers) {
        idle_.push_back(std::move(connection));
    }
}

}  // namespace vigil::hub::sqlite
