#include "vigil/agent/detail/backlog.hpp"

namespace vigil::agent::detail {

uint8_t* Backlog::reserve(size_t max_length, uint64_t& dropped) {
    if (max_length + kLengthBytes > capacity_ || max_length > 0xFFFF) {
        return nullptr;
    }
    while (capacity_ - used_ < max_length + kLengthBytes) {
        pop_front();
        ++dropped;
    }
    return storage_ + used_ + kLengthBytes;
}

void Backlog::commit(size_t length) {
    storage_[used_] = static_cast<uint8_t>(length >> 8);
    storage_[used_ + 1] = static_cast<uint8_t>(length);
    used_ += kLengthBytes + length;
    ++messages_;
}

bool Backlog::front(const uint8_t*& data, size_t& length) const {
    if (messages_ == 0) {
        return false;
    }
    length = static_cast<size_t>(storage_[0]) << 8 | storage_[1];
    data = storage_ + kLengthBytes;
    return true;
}

void Backlog::pop_front() {
    if (messages_ == 0) {
        return;
    }
    const size_t first = kLengthBytes + (static_cast<size_t>(storage_[0]) << 8 | storage_[1]);
    __builtin_memmove(storage_, storage_ + first, used_ - first);
    used_ -= first;
    --messages_;
}

}  // namespace vigil::agent::detail
