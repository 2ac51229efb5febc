#include "vigil/protocol/cbor.h"

namespace vigil::cbor {

namespace {
constexpr unsigned kMaxSkipDepth = 16;
constexpr uint8_t kAdditionalOneByte = 24;
constexpr uint8_t kAdditionalEightBytes = 27;
}  // namespace

void Writer::bytes(const uint8_t* data, size_t length) {
    head(MajorType::Bytes, length);
    raw(data, length);
}

void Writer::text(const char* data, size_t length) {
    head(MajorType::Text, length);
    raw(reinterpret_cast<const uint8_t*>(data), length);
}

void Writer::head(MajorType type, uint64_t value) {
    const auto major = static_cast<uint8_t>(static_cast<uint8_t>(type) << 5);
    if (value < 24) {
        put(static_cast<uint8_t>(major | value));
        return;
    }
    unsigned width;
    uint8_t additional;
    if (value <= 0xFF) {
        width = 1;
        additional = 24;
    } else if (value <= 0xFFFF) {
        width = 2;
        additional = 25;
    } else if (value <= 0xFFFFFFFFu) {
        width = 4;
        additional = 26;
    } else {
        width = 8;
        additional = 27;
    }
    put(static_cast<uint8_t>(major | additional));
    for (unsigned shift = width * 8; shift > 0; shift -= 8) {
        put(static_cast<uint8_t>(value >> (shift - 8)));
    }
}

void Writer::raw(const uint8_t* data, size_t length) {
    if (buffer_ != nullptr) {
        if (size_ > capacity_ || length > capacity_ - size_) {
            overflowed_ = true;
        } else {
            for (size_t i = 0; i < length; ++i) {
                buffer_[size_ + i] = data[i];
            }
        }
    }
    size_ += length;
}

const char* to_string(ReadError error) {
    switch (error) {
        case ReadError::None:
            return "ok";
        case ReadError::Truncated:
            return "input ends inside a data item";
        case ReadError::WrongType:
            return "item has the wrong type";
        case ReadError::Unsupported:
            return "unsupported encoding (indefinite length, tag, float or reserved value)";
        case ReadError::NotShortest:
            return "integer argument not in shortest form";
        case ReadError::OutOfRange:
            return "value out of range";
        case ReadError::TooDeep:
            return "nesting too deep";
        case ReadError::TrailingBytes:
            return "trailing bytes after the message";
    }
    return "unknown error";
}

bool Reader::peek(MajorType& type) const {
    if (failed() || offset_ >= length_) {
        return false;
    }
    type = static_cast<MajorType>(data_[offset_] >> 5);
    return true;
}

bool Reader::head(MajorType expected, uint64_t& argument) {
    if (failed()) {
        return false;
    }
    if (offset_ >= length_) {
        fail(ReadError::Truncated);
        return false;
    }
    const uint8_t initial = data_[offset_];
    if (static_cast<MajorType>(initial >> 5) != expected) {
        fail(ReadError::WrongType);
        return false;
    }
    const uint8_t additional = initial & 0x1F;
    if (additional < kAdditionalOneByte) {
        argument = additional;
        offset_ += 1;
        return true;
    }
    if (additional > kAdditionalEightBytes) {
        fail(ReadError::Unsupported);
        return false;
    }
    const size_t width = size_t{1} << (additional - kAdditionalOneByte);
    if (length_ - offset_ - 1 < width) {
        fail(ReadError::Truncated);
        return false;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) {
        value = (value << 8) | data_[offset_ + 1 + i];
    }
    if (head_size(value) != width + 1) {
        fail(ReadError::NotShortest);
        return false;
    }
    argument = value;
    offset_ += 1 + width;
    return true;
}

bool Reader::read_uint(uint64_t& value) {
    return head(MajorType::Unsigned, value);
}

bool Reader::read_uint32(uint32_t& value) {
    uint64_t wide = 0;
    if (!read_uint(wide)) {
        return false;
    }
    if (wide > 0xFFFFFFFFu) {
        fail(ReadError::OutOfRange);
        return false;
    }
    value = static_cast<uint32_t>(wide);
    return true;
}

bool Reader::read_int(int64_t& value) {
    MajorType type;
    if (!peek(type)) {
        fail(ReadError::Truncated);
        return false;
    }
    uint64_t argument = 0;
    const bool negative = type == MajorType::Negative;
    if (!head(negative ? MajorType::Negative : MajorType::Unsigned, argument)) {
        return false;
    }
    if (argument > static_cast<uint64_t>(INT64_MAX)) {
        fail(ReadError::OutOfRange);
        return false;
    }
    value = negative ? -1 - static_cast<int64_t>(argument) : static_cast<int64_t>(argument);
    return true;
}

bool Reader::read_bool(bool& value) {
    if (failed()) {
        return false;
    }
    if (offset_ >= length_) {
        fail(ReadError::Truncated);
        return false;
    }
    const uint8_t initial = data_[offset_];
    if (initial != 0xF4 && initial != 0xF5) {
        fail(ReadError::WrongType);
        return false;
    }
    value = initial == 0xF5;
    ++offset_;
    return true;
}

bool Reader::read_null() {
    if (failed()) {
        return false;
    }
    if (offset_ >= length_) {
        fail(ReadError::Truncated);
        return false;
    }
    if (data_[offset_] != 0xF6) {
        fail(ReadError::WrongType);
        return false;
    }
    ++offset_;
    return true;
}

bool Reader::head_within_input(MajorType expected, size_t unit_bytes, size_t& count) {
    uint64_t size = 0;
    if (!head(expected, size)) {
        return false;
    }
    if (size > (length_ - offset_) / unit_bytes) {
        fail(ReadError::Truncated);
        return false;
    }
    count = static_cast<size_t>(size);
    return true;
}

bool Reader::read_bytes(const uint8_t*& data, size_t& length) {
    if (!head_within_input(MajorType::Bytes, 1, length)) {
        return false;
    }
    data = data_ + offset_;
    offset_ += length;
    return true;
}

bool Reader::read_text(const char*& data, size_t& length) {
    if (!head_within_input(MajorType::Text, 1, length)) {
        return false;
    }
    data = reinterpret_cast<const char*>(data_ + offset_);
    offset_ += length;
    return true;
}

bool Reader::read_array(size_t& count) {
    return head_within_input(MajorType::Array, 1, count);
}

bool Reader::read_map(size_t& pairs) {
    return head_within_input(MajorType::Map, 2, pairs);
}

bool Reader::skip() {
    return skip_depth(0);
}

bool Reader::skip_nested(unsigned depth) {
    return skip_depth(depth);
}

bool Reader::skip_depth(unsigned depth) {
    if (depth > kMaxSkipDepth) {
        fail(ReadError::TooDeep);
        return false;
    }
    MajorType type;
    if (!peek(type)) {
        fail(ReadError::Truncated);
        return false;
    }
    switch (type) {
        case MajorType::Unsigned: {
            uint64_t ignored;
            return read_uint(ignored);
        }
        case MajorType::Negative: {
            // Not read_int: -2^64..-2^63-1 are well-formed even though no int64_t holds them.
            uint64_t ignored;
            return head(MajorType::Negative, ignored);
        }
        case MajorType::Bytes: {
            const uint8_t* data;
            size_t length;
            return read_bytes(data, length);
        }
        case MajorType::Text: {
            const char* data;
            size_t length;
            return read_text(data, length);
        }
        case MajorType::Array: {
            size_t count = 0;
            if (!read_array(count)) {
                return false;
            }
            for (size_t i = 0; i < count; ++i) {
                if (!skip_depth(depth + 1)) {
                    return false;
                }
            }
            return true;
        }
        case MajorType::Map: {
            size_t pairs = 0;
            if (!read_map(pairs)) {
                return false;
            }
            for (size_t i = 0; i < 2 * pairs; ++i) {
                if (!skip_depth(depth + 1)) {
                    return false;
                }
            }
            return true;
        }
        case MajorType::Simple: {
            const uint8_t initial = data_[offset_];
            if (initial == 0xF4 || initial == 0xF5 || initial == 0xF6) {
                ++offset_;
                return true;
            }
            fail(ReadError::Unsupported);
            return false;
        }
        case MajorType::Tag:
            break;
    }
    fail(ReadError::Unsupported);
    return false;
}

bool Reader::finish() {
    if (!failed() && offset_ != length_) {
        fail(ReadError::TrailingBytes);
    }
    return !failed();
}

}  // namespace vigil::cbor
