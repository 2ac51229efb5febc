// Fixed-capacity flow tables. Records live in a caller's array and are found by open addressing
// (linear probing, no per-entry links), so a record costs only its fields. The code is shared by
// every capacity: a table is a pointer, a capacity and a count.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil::agent::detail {

/// Probe at most this many slots, so a full or attacked table costs a bounded time per packet.
/// Flows that find no slot within it go to the overflow records, like flows of a full table.
constexpr size_t kMaxProbe = 64;

struct FlowStats {
    uint32_t bytes_in;
    uint32_t bytes_out;
    uint32_t packets_in;
    uint32_t packets_out;
    uint32_t first_ms;  ///< offset from the window start
    uint32_t last_ms;
    uint8_t flags;  ///< wire::flow_flag bits; protocol in the low bits is part of the key
    uint8_t used;
};

struct FlowRecord4 {
    uint32_t local;  ///< network byte order, as read from the packet
    uint32_t remote;
    uint16_t local_port;
    uint16_t remote_port;
    FlowStats stats;
};

struct FlowRecord6 {
    uint8_t local[16];
    uint8_t remote[16];
    uint16_t local_port;
    uint16_t remote_port;
    FlowStats stats;
};

struct FlowKey {
    const uint8_t* local;  ///< 4 or 16 bytes
    const uint8_t* remote;
    uint16_t local_port;
    uint16_t remote_port;
    uint8_t protocol;
};

template <typename Record>
class FlowTable {
  public:
    FlowTable(Record* records, size_t capacity) : records_(records), capacity_(capacity) {}
    FlowTable(const FlowTable&) = delete;
    FlowTable& operator=(const FlowTable&) = delete;

    /// Finds the key's record or claims a free one (its stats zeroed, `inserted` set). Returns
    /// null when no slot is free within kMaxProbe.
    Record* find_or_insert(const FlowKey& key, uint32_t seed, bool& inserted);
    void clear();

    size_t size() const { return size_; }
    size_t capacity() const { return capacity_; }
    bool full() const { return size_ == capacity_; }
    Record& slot(size_t index) { return records_[index]; }
    const Record& slot(size_t index) const { return records_[index]; }

  private:
    Record* records_;
    size_t capacity_;
    size_t size_ = 0;
};

extern template class FlowTable<FlowRecord4>;
extern template class FlowTable<FlowRecord6>;

}  // namespace vigil::agent::detail
