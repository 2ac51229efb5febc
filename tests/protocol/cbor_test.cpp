#include "vigil/protocol/cbor.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cbor_tree.h"

namespace vigil::cbor {
namespace {

using test::Bytes;
using test::hex;

constexpr uint64_t kU32Max = 0xFFFFFFFFu;
constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

template <typename Write>
Bytes write_all(Write&& write) {
    return test::written(std::forward<Write>(write));
}

struct HeadCase {
    uint64_t value;
    size_t size;
    const char* uint_hex;
};

// Every boundary where the head grows, from RFC 8949 §3 and Appendix A.
const HeadCase kHeadCases[] = {
    {0, 1, "00"},
    {23, 1, "17"},
    {24, 2, "1818"},
    {255, 2, "18ff"},
    {256, 3, "190100"},
    {65535, 3, "19ffff"},
    {65536, 5, "1a00010000"},
    {kU32Max, 5, "1affffffff"},
    {kU32Max + 1, 9, "1b0000000100000000"},
    {kU64Max, 9, "1bffffffffffffffff"},
};

TEST(CborWriter, UnsignedHeadAtEveryBoundary) {
    for (const HeadCase& c : kHeadCases) {
        SCOPED_TRACE(c.value);
        EXPECT_EQ(head_size(c.value), c.size);
        const Bytes bytes = write_all([&](Writer& w) { w.uint(c.value); });
        EXPECT_EQ(bytes, hex(c.uint_hex));
    }
}

TEST(CborWriter, EveryMajorTypeUsesTheSameHead) {
    for (const HeadCase& c : kHeadCases) {
        SCOPED_TRACE(c.value);
        Writer counter;
        counter.array(c.value);
        EXPECT_EQ(counter.size(), c.size);
        const Bytes array = write_all([&](Writer& w) { w.array(c.value); });
        const Bytes map = write_all([&](Writer& w) { w.map(c.value); });
        Bytes expected = hex(c.uint_hex);
        expected[0] = static_cast<uint8_t>(expected[0] | 0x80);
        EXPECT_EQ(array, expected);
        expected[0] = static_cast<uint8_t>((expected[0] & 0x1F) | 0xA0);
        EXPECT_EQ(map, expected);
    }
}

TEST(CborWriter, NegativeIntegers) {
    EXPECT_EQ(write_all([](Writer& w) { w.integer(-1); }), hex("20"));
    EXPECT_EQ(write_all([](Writer& w) { w.integer(-24); }), hex("37"));
    EXPECT_EQ(write_all([](Writer& w) { w.integer(-25); }), hex("3818"));
    EXPECT_EQ(write_all([](Writer& w) { w.integer(-256); }), hex("38ff"));
    EXPECT_EQ(write_all([](Writer& w) { w.integer(-257); }), hex("390100"));
    EXPECT_EQ(write_all([](Writer& w) { w.integer(std::numeric_limits<int64_t>::min()); }),
              hex("3b7fffffffffffffff"));
    EXPECT_EQ(write_all([](Writer& w) { w.integer(5); }), hex("05"));
    EXPECT_EQ(int_size(-24), 1u);
    EXPECT_EQ(int_size(-25), 2u);
    EXPECT_EQ(int_size(std::numeric_limits<int64_t>::min()), 9u);
}

TEST(CborWriter, StringsBooleansNull) {
    const uint8_t data[] = {1, 2, 3};
    EXPECT_EQ(write_all([&](Writer& w) { w.bytes(data, 3); }), hex("43010203"));
    EXPECT_EQ(write_all([](Writer& w) { w.text("IETF", 4); }), hex("6449455446"));
    EXPECT_EQ(write_all([](Writer& w) { w.bytes(nullptr, 0); }), hex("40"));
    EXPECT_EQ(write_all([](Writer& w) { w.boolean(false); }), hex("f4"));
    EXPECT_EQ(write_all([](Writer& w) { w.boolean(true); }), hex("f5"));
    EXPECT_EQ(write_all([](Writer& w) { w.null(); }), hex("f6"));
    const std::string long_text(300, 'x');
    const Bytes bytes = write_all([&](Writer& w) { w.text(long_text.data(), long_text.size()); });
    ASSERT_EQ(bytes.size(), 3 + long_text.size());
    EXPECT_EQ(bytes[0], 0x79);
    EXPECT_EQ(bytes[1], 0x01);
    EXPECT_EQ(bytes[2], 0x2C);
}

TEST(CborWriter, TextFromCStringStopsAtNulOrLimit) {
    EXPECT_EQ(write_all([](Writer& w) { w.text_cstr("abc", 64); }), hex("63616263"));
    EXPECT_EQ(write_all([](Writer& w) { w.text_cstr("abcdef", 2); }), hex("626162"));
    EXPECT_EQ(write_all([](Writer& w) { w.text_cstr("", 2); }), hex("60"));
    EXPECT_EQ(write_all([](Writer& w) { w.text_cstr("ab", 2); }), hex("626162"));
}

TEST(CborWriter, TextFromCStringNeverCutsAUtf8Sequence) {
    // "aé€" is 61 c3a9 e282ac.
    const char* text = "a\xc3\xa9\xe2\x82\xac";
    EXPECT_EQ(write_all([&](Writer& w) { w.text_cstr(text, 1); }), hex("6161"));
    EXPECT_EQ(write_all([&](Writer& w) { w.text_cstr(text, 2); }), hex("6161"));
    EXPECT_EQ(write_all([&](Writer& w) { w.text_cstr(text, 3); }), hex("6361c3a9"));
    EXPECT_EQ(write_all([&](Writer& w) { w.text_cstr(text, 4); }), hex("6361c3a9"));
    EXPECT_EQ(write_all([&](Writer& w) { w.text_cstr(text, 5); }), hex("6361c3a9"));
    EXPECT_EQ(write_all([&](Writer& w) { w.text_cstr(text, 6); }), hex("6661c3a9e282ac"));
    EXPECT_EQ(write_all([&](Writer& w) { w.text_cstr("\xc3\xa9", 1); }), hex("60"));
}

void write_sample(Writer& w) {
    const uint8_t address[16] = {0x20, 0x01, 0x0d, 0xb8};
    w.map(3);
    w.uint(1);
    w.array(4);
    w.uint(kU32Max + 1);
    w.integer(-1000);
    w.bytes(address, sizeof(address));
    w.boolean(true);
    w.uint(2);
    w.text_cstr("hello, world", 64);
    w.uint(3);
    w.null();
}

TEST(CborWriter, CountingModeMeasuresExactlyWhatIsWritten) {
    Writer counter;
    write_sample(counter);
    EXPECT_TRUE(counter.counting());
    EXPECT_TRUE(counter.ok());
    Bytes buffer(counter.size());
    Writer writer(buffer.data(), buffer.size());
    write_sample(writer);
    EXPECT_FALSE(writer.counting());
    EXPECT_TRUE(writer.ok());
    EXPECT_EQ(writer.size(), counter.size());
}

TEST(CborWriter, OverflowSticksAndNeverWritesPastCapacity) {
    Writer counter;
    write_sample(counter);
    const Bytes full = write_all(write_sample);
    for (size_t capacity = 0; capacity < counter.size(); ++capacity) {
        SCOPED_TRACE(capacity);
        Bytes buffer(capacity + 8, 0xEE);
        Writer writer(buffer.data(), capacity);
        write_sample(writer);
        EXPECT_FALSE(writer.ok());
        EXPECT_EQ(writer.size(), counter.size());
        for (size_t i = capacity; i < buffer.size(); ++i) {
            ASSERT_EQ(buffer[i], 0xEE) << "wrote past the capacity at " << i;
        }
        writer.uint(0);  // still failed after a write that would fit on its own
        EXPECT_FALSE(writer.ok());
        // Whatever was written is a prefix of the real encoding.
        for (size_t i = 0; i < capacity; ++i) {
            if (buffer[i] != 0xEE) {
                EXPECT_EQ(buffer[i], full[i]) << i;
            }
        }
    }
}

TEST(CborReader, ReadsBackEveryBoundary) {
    for (const HeadCase& c : kHeadCases) {
        SCOPED_TRACE(c.value);
        const Bytes bytes = hex(c.uint_hex);
        Reader in(bytes.data(), bytes.size());
        uint64_t value = 0;
        ASSERT_TRUE(in.read_uint(value));
        EXPECT_EQ(value, c.value);
        EXPECT_TRUE(in.finish());
        Reader narrow(bytes.data(), bytes.size());
        uint32_t value32 = 0;
        EXPECT_EQ(narrow.read_uint32(value32), c.value <= kU32Max);
        if (c.value > kU32Max) {
            EXPECT_EQ(narrow.error(), ReadError::OutOfRange);
        } else {
            EXPECT_EQ(value32, c.value);
        }
    }
}

TEST(CborReader, SignedIntegersAtTheirLimits) {
    const auto read = [](const char* text, int64_t& value) {
        const Bytes bytes = hex(text);
        Reader in(bytes.data(), bytes.size());
        const bool ok = in.read_int(value);
        return ok ? ReadError::None : in.error();
    };
    int64_t value = 0;
    EXPECT_EQ(read("3b7fffffffffffffff", value), ReadError::None);
    EXPECT_EQ(value, std::numeric_limits<int64_t>::min());
    EXPECT_EQ(read("1b7fffffffffffffff", value), ReadError::None);
    EXPECT_EQ(value, std::numeric_limits<int64_t>::max());
    EXPECT_EQ(read("3b8000000000000000", value), ReadError::OutOfRange);
    EXPECT_EQ(read("1b8000000000000000", value), ReadError::OutOfRange);
    EXPECT_EQ(read("20", value), ReadError::None);
    EXPECT_EQ(value, -1);
}

TEST(CborReader, SkipsEveryNegativeIntegerEvenBelowInt64) {
    const Bytes bytes = hex("3bffffffffffffffff");  // -2^64, well-formed
    Reader in(bytes.data(), bytes.size());
    EXPECT_TRUE(in.skip());
    EXPECT_TRUE(in.finish());
}

TEST(CborReader, ReadsStringsWithoutCopying) {
    const Bytes bytes = hex("430102036449455446");
    Reader in(bytes.data(), bytes.size());
    const uint8_t* data = nullptr;
    size_t length = 0;
    ASSERT_TRUE(in.read_bytes(data, length));
    EXPECT_EQ(data, bytes.data() + 1);
    EXPECT_EQ(length, 3u);
    const char* text = nullptr;
    ASSERT_TRUE(in.read_text(text, length));
    EXPECT_EQ(std::string(text, length), "IETF");
    EXPECT_TRUE(in.finish());
}

TEST(CborReader, RejectsEveryTruncation) {
    const Bytes full = write_all(write_sample);
    for (size_t length = 0; length < full.size(); ++length) {
        SCOPED_TRACE(length);
        Reader in(full.data(), length);
        EXPECT_FALSE(in.skip());
        EXPECT_EQ(in.error(), ReadError::Truncated);
        EXPECT_LE(in.offset(), length);
    }
    Reader in(full.data(), full.size());
    EXPECT_TRUE(in.skip());
    EXPECT_TRUE(in.finish());
}

TEST(CborReader, RejectsEveryTruncatedHead) {
    for (const HeadCase& c : kHeadCases) {
        const Bytes bytes = hex(c.uint_hex);
        for (size_t length = 0; length < bytes.size(); ++length) {
            Reader in(bytes.data(), length);
            uint64_t value = 0;
            EXPECT_FALSE(in.read_uint(value));
            EXPECT_EQ(in.error(), ReadError::Truncated) << c.value << " cut at " << length;
        }
    }
}

TEST(CborReader, RejectsArgumentsNotInShortestForm) {
    for (const char* text :
         {"1817", "1800", "1900ff", "190000", "1a0000ffff", "1a00000000", "1b00000000ffffffff",
          "3817", "5801ff", "7801ff", "980100", "b8010000"}) {
        SCOPED_TRACE(text);
        const Bytes bytes = hex(text);
        Reader in(bytes.data(), bytes.size());
        EXPECT_FALSE(in.skip());
        EXPECT_EQ(in.error(), ReadError::NotShortest);
    }
}

TEST(CborReader, RejectsIndefiniteLengthsAndReservedValues) {
    for (const char* text :
         {"5f4100ff", "7f6161ff", "9f00ff", "bf0000ff", "1c", "1d", "1e", "1f", "3f", "ff"}) {
        SCOPED_TRACE(text);
        const Bytes bytes = hex(text);
        Reader in(bytes.data(), bytes.size());
        EXPECT_FALSE(in.skip());
        EXPECT_EQ(in.error(), ReadError::Unsupported);
    }
    const Bytes indefinite = hex("9f00ff");
    Reader in(indefinite.data(), indefinite.size());
    size_t count = 0;
    EXPECT_FALSE(in.read_array(count));
    EXPECT_EQ(in.error(), ReadError::Unsupported);
}

TEST(CborReader, RejectsTagsFloatsAndOtherSimpleValues) {
    for (const char* text : {"c11a514b67b0", "d8206161", "f90000", "fa47c35000",
                             "fb3ff199999999999a", "f7", "f0", "f820"}) {
        SCOPED_TRACE(text);
        const Bytes bytes = hex(text);
        Reader skipper(bytes.data(), bytes.size());
        EXPECT_FALSE(skipper.skip());
        EXPECT_EQ(skipper.error(), ReadError::Unsupported);
        Reader typed(bytes.data(), bytes.size());
        uint64_t value = 0;
        EXPECT_FALSE(typed.read_uint(value));
        EXPECT_EQ(typed.error(), ReadError::WrongType);
    }
}

TEST(CborReader, BooleansAndNull) {
    const Bytes bytes = hex("f5f4f6");
    Reader in(bytes.data(), bytes.size());
    bool value = false;
    EXPECT_TRUE(in.read_bool(value));
    EXPECT_TRUE(value);
    EXPECT_TRUE(in.peek_null() == false);
    EXPECT_TRUE(in.read_bool(value));
    EXPECT_FALSE(value);
    EXPECT_TRUE(in.peek_null());
    EXPECT_TRUE(in.read_null());
    EXPECT_TRUE(in.finish());

    const Bytes one = hex("01");
    Reader wrong(one.data(), one.size());
    EXPECT_FALSE(wrong.read_bool(value));
    EXPECT_EQ(wrong.error(), ReadError::WrongType);
    Reader wrong_null(one.data(), one.size());
    EXPECT_FALSE(wrong_null.read_null());
    EXPECT_EQ(wrong_null.error(), ReadError::WrongType);
}

Bytes nested_arrays(size_t depth) {
    Bytes bytes(depth, 0x81);  // [ [ [ ... 0 ] ] ]
    bytes.push_back(0x00);
    return bytes;
}

TEST(CborReader, LimitsNestingDepthWhileSkipping) {
    const Bytes deepest_allowed = nested_arrays(16);
    Reader ok(deepest_allowed.data(), deepest_allowed.size());
    EXPECT_TRUE(ok.skip());
    EXPECT_TRUE(ok.finish());

    const Bytes too_deep = nested_arrays(17);
    Reader deep(too_deep.data(), too_deep.size());
    EXPECT_FALSE(deep.skip());
    EXPECT_EQ(deep.error(), ReadError::TooDeep);

    // Far deeper input stops at the limit rather than recursing through it.
    const Bytes abyss = nested_arrays(1 << 20);
    Reader abyss_reader(abyss.data(), abyss.size());
    EXPECT_FALSE(abyss_reader.skip());
    EXPECT_EQ(abyss_reader.error(), ReadError::TooDeep);
}

TEST(CborReader, RejectsDeclaredLengthsBeyondTheInput) {
    for (const char* text :
         {"5bffffffffffffffff", "5a7fffffff00", "7bffffffffffffffff", "9bffffffffffffffff",
          "9a0001000000", "bbffffffffffffffff", "ba00010000", "8300", "a20000", "4301"}) {
        SCOPED_TRACE(text);
        const Bytes bytes = hex(text);
        Reader in(bytes.data(), bytes.size());
        EXPECT_FALSE(in.skip());
        EXPECT_EQ(in.error(), ReadError::Truncated);
    }
    // Typed reads check the same way: a count that the input cannot hold is refused up front.
    const Bytes huge = hex("9bffffffffffffffff00");
    Reader in(huge.data(), huge.size());
    size_t count = 0;
    EXPECT_FALSE(in.read_array(count));
    EXPECT_EQ(in.error(), ReadError::Truncated);
    const Bytes huge_map = hex("a30000");
    Reader map_reader(huge_map.data(), huge_map.size());
    EXPECT_FALSE(map_reader.read_map(count));
    EXPECT_EQ(map_reader.error(), ReadError::Truncated);
}

TEST(CborReader, ErrorsStick) {
    const Bytes bytes =
        hex("6161"
            "01");
    Reader in(bytes.data(), bytes.size());
    uint64_t value = 0;
    EXPECT_FALSE(in.read_uint(value));  // a text string
    EXPECT_EQ(in.error(), ReadError::WrongType);
    EXPECT_EQ(in.offset(), 0u);
    const char* text = nullptr;
    size_t length = 0;
    EXPECT_FALSE(in.read_text(text, length));
    EXPECT_FALSE(in.skip());
    EXPECT_FALSE(in.finish());
    EXPECT_EQ(in.error(), ReadError::WrongType);
    in.fail(ReadError::OutOfRange);
    EXPECT_EQ(in.error(), ReadError::WrongType);
}

TEST(CborReader, FinishRejectsTrailingBytes) {
    const Bytes bytes = hex("0102");
    Reader in(bytes.data(), bytes.size());
    uint64_t value = 0;
    ASSERT_TRUE(in.read_uint(value));
    EXPECT_FALSE(in.at_end());
    EXPECT_EQ(in.remaining(), 1u);
    EXPECT_FALSE(in.finish());
    EXPECT_EQ(in.error(), ReadError::TrailingBytes);
}

TEST(CborReader, PeekDoesNotConsume) {
    const Bytes bytes = hex("a0");
    Reader in(bytes.data(), bytes.size());
    MajorType type = MajorType::Unsigned;
    ASSERT_TRUE(in.peek(type));
    EXPECT_EQ(type, MajorType::Map);
    EXPECT_EQ(in.offset(), 0u);
    size_t pairs = 1;
    EXPECT_TRUE(in.read_map(pairs));
    EXPECT_EQ(pairs, 0u);
    EXPECT_FALSE(in.peek(type));
    EXPECT_TRUE(in.at_end());
}

TEST(CborReader, EmptyInput) {
    Reader in(nullptr, 0);
    uint64_t value = 0;
    EXPECT_FALSE(in.read_uint(value));
    EXPECT_EQ(in.error(), ReadError::Truncated);
    Reader skipper(nullptr, 0);
    EXPECT_FALSE(skipper.skip());
    EXPECT_EQ(skipper.error(), ReadError::Truncated);
}

TEST(CborReader, ErrorsHaveText) {
    for (ReadError error : {ReadError::None, ReadError::Truncated, ReadError::WrongType,
                            ReadError::Unsupported, ReadError::NotShortest, ReadError::OutOfRange,
                            ReadError::TooDeep, ReadError::TrailingBytes}) {
        EXPECT_STRNE(to_string(error), "unknown error");
    }
}

}  // namespace
}  // namespace vigil::cbor
