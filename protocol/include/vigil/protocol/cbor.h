// CBOR (RFC 8949) writer and reader for the subset Vigil's wire format uses: unsigned and negative
// integers, byte and text strings, definite-length arrays and maps, booleans and null.
//
// Freestanding: no heap, no exceptions, only <cstddef>/<cstdint>. Hand-written rather than libcbor
// because it must run inside the agent core on a microcontroller (no allocation, caller-owned
// buffers) and because the writer has a counting mode (null buffer) that sizes a message before it
// is written. Encoding is always the preferred (shortest) serialisation with definite lengths, so
// the bytes are deterministic (RFC 8949 §4.2.1) as long as the caller writes map keys in order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil::cbor {

enum class MajorType : uint8_t {
    Unsigned = 0,
    Negative = 1,
    Bytes = 2,
    Text = 3,
    Array = 4,
    Map = 5,
    Tag = 6,
    Simple = 7,
};

/// Bytes the head of a data item with argument `value` takes (1, 2, 3, 5 or 9).
constexpr size_t head_size(uint64_t value) {
    return value < 24 ? 1 : value <= 0xFF ? 2 : value <= 0xFFFF ? 3 : value <= 0xFFFFFFFFu ? 5 : 9;
}

/// Bytes a signed integer takes.
constexpr size_t int_size(int64_t value) {
    return value >= 0 ? head_size(static_cast<uint64_t>(value))
                      : head_size(static_cast<uint64_t>(-(value + 1)));
}

/// Writes CBOR into a caller's buffer. With a null buffer it only counts, so the same code that
/// writes a message can first measure it. Once a write does not fit, the writer stays failed and
/// `size()` keeps counting what would have been needed.
class Writer {
  public:
    Writer() = default;  // counting only
    Writer(uint8_t* buffer, size_t capacity) : buffer_(buffer), capacity_(capacity) {}

    void uint(uint64_t value) { head(MajorType::Unsigned, value); }
    void integer(int64_t value) {
        if (value >= 0) {
            head(MajorType::Unsigned, static_cast<uint64_t>(value));
        } else {
            head(MajorType::Negative, static_cast<uint64_t>(-(value + 1)));
        }
    }
    void bytes(const uint8_t* data, size_t length);
    void text(const char* data, size_t length);
    /// Writes a NUL-terminated string, at most `max_length` bytes of it. A cut never falls
    /// inside a UTF-8 sequence: a text string must be valid UTF-8 (RFC 8949 §3.1), so a clipped
    /// string ends before the character that did not fit.
    void text_cstr(const char* nul_terminated, size_t max_length) {
        size_t length = 0;
        while (length < max_length && nul_terminated[length] != '\0') {
            ++length;
        }
        if (nul_terminated[length] != '\0') {
            while (length > 0 && (static_cast<uint8_t>(nul_terminated[length]) & 0xC0) == 0x80) {
                --length;
            }
        }
        text(nul_terminated, length);
    }
    void array(size_t count) { head(MajorType::Array, count); }
    void map(size_t pairs) { head(MajorType::Map, pairs); }
    void boolean(bool value) { put(value ? 0xF5 : 0xF4); }
    void null() { put(0xF6); }

    size_t size() const { return size_; }
    bool ok() const { return !overflowed_; }
    /// True when the writer only counts.
    bool counting() const { return buffer_ == nullptr; }

  private:
    void head(MajorType type, uint64_t value);
    void put(uint8_t byte) {
        if (buffer_ != nullptr) {
            if (size_ < capacity_) {
                buffer_[size_] = byte;
            } else {
                overflowed_ = true;
            }
        }
        ++size_;
    }
    void raw(const uint8_t* data, size_t length);

    uint8_t* buffer_ = nullptr;
    size_t capacity_ = 0;
    size_t size_ = 0;
    bool overflowed_ = false;
};

enum class ReadError : uint8_t {
    None = 0,
    Truncated,      ///< the input ended inside a data item
    WrongType,      ///< the item is not of the type the schema asks for
    Unsupported,    ///< indefinite length, tags, floats or reserved encodings
    NotShortest,    ///< an argument not in its shortest form (deterministic encoding only)
    OutOfRange,     ///< a value too large for the field it is read into
    TooDeep,        ///< nesting deeper than the reader allows while skipping
    TrailingBytes,  ///< bytes left after the top-level item
};

const char* to_string(ReadError error);

/// A cursor over a CBOR buffer. Every read checks the remaining length first and never reads past
/// the end; the first error sticks and all later reads fail, so a decoder can read a whole
/// structure and check `error()` once.
class Reader {
  public:
    Reader(const uint8_t* data, size_t length) : data_(data), length_(length) {}

    bool read_uint(uint64_t& value);
    bool read_uint32(uint32_t& value);
    bool read_int(int64_t& value);
    bool read_bool(bool& value);
    /// Points `data` into the input; no copy.
    bool read_bytes(const uint8_t*& data, size_t& length);
    bool read_text(const char*& data, size_t& length);
    bool read_array(size_t& count);
    bool read_map(size_t& pairs);
    bool read_null();
    /// Skips one complete data item of any supported type.
    bool skip();
    /// Skips one complete data item found `depth` containers deep, so that nesting is limited as
    /// if the whole input had been skipped from its start.
    bool skip_nested(unsigned depth);

    /// Type of the next item without consuming it (false at end of input).
    bool peek(MajorType& type) const;
    bool peek_null() const { return offset_ < length_ && data_[offset_] == 0xF6; }

    bool at_end() const { return offset_ >= length_; }
    size_t offset() const { return offset_; }
    size_t remaining() const { return length_ - offset_; }
    ReadError error() const { return error_; }
    bool failed() const { return error_ != ReadError::None; }
    /// Marks the reader failed with a schema-level error found by the caller.
    void fail(ReadError error) {
        if (error_ == ReadError::None) {
            error_ = error;
        }
    }
    /// Fails with TrailingBytes unless the input was consumed exactly.
    bool finish();

  private:
    bool head(MajorType expected, uint64_t& argument);
    /// The head of an item whose argument counts what follows it in units of `unit_bytes` at
    /// least (a byte of a string, an element, a key and its value): an argument beyond the
    /// remaining input is a lie, refused as truncated.
    bool head_within_input(MajorType expected, size_t unit_bytes, size_t& count);
    bool skip_depth(unsigned depth);

    const uint8_t* data_;
    size_t length_;
    size_t offset_ = 0;
    ReadError error_ = ReadError::None;
};

}  // namespace vigil::cbor
