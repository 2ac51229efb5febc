// A FIFO of encoded messages in a caller's byte buffer: [u16 length][payload]... Oldest first.
// Kept linear (pop moves the rest down) rather than a ring so every message is contiguous for
// the transport; the buffer is small enough on a device that the move costs little.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil::agent::detail {

class Backlog {
  public:
    Backlog(uint8_t* storage, size_t capacity) : storage_(storage), capacity_(capacity) {}

    /// Makes room for a message of up to `max_length` bytes, dropping the oldest messages as
    /// needed (counted in `dropped`). Returns where to write it, or null if it can never fit.
    uint8_t* reserve(size_t max_length, uint64_t& dropped);
    /// Adds the message written at the reserved place; `length` <= the reserved length.
    void commit(size_t length);

    /// True when a message of up to `max_length` bytes fits without dropping any.
    bool fits(size_t max_length) const { return capacity_ - used_ >= max_length + kLengthBytes; }

    bool front(const uint8_t*& data, size_t& length) const;
    void pop_front();

    size_t messages() const { return messages_; }
    size_t bytes() const { return used_; }
    size_t capacity() const { return capacity_; }

  private:
    static constexpr size_t kLengthBytes = 2;

    uint8_t* storage_;
    size_t capacity_;
    size_t used_ = 0;
    size_t messages_ = 0;
};

}  // namespace vigil::agent::detail
