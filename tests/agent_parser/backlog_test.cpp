// The backlog: a FIFO of length-prefixed messages in a caller's byte buffer that drops its oldest
// messages to make room.
#include "vigil/agent/detail/backlog.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using vigil::agent::detail::Backlog;
using Bytes = std::vector<uint8_t>;

/// A backlog over an exactly-sized heap buffer, so ASan catches writes past its capacity.
struct Fixture {
    explicit Fixture(size_t capacity)
        : storage(new uint8_t[capacity]), backlog(storage.get(), capacity) {}

    /// Reserves `reserve_length`, writes `message` (no longer) and commits it.
    bool push(const Bytes& message, size_t reserve_length) {
        uint8_t* at = backlog.reserve(reserve_length, dropped);
        if (at == nullptr) {
            return false;
        }
        if (!message.empty()) {
            std::memcpy(at, message.data(), message.size());
        }
        backlog.commit(message.size());
        return true;
    }
    bool push(const Bytes& message) { return push(message, message.size()); }

    Bytes front() const {
        const uint8_t* data = nullptr;
        size_t length = 0;
        EXPECT_TRUE(backlog.front(data, length));
        return Bytes(data, data + length);
    }
    Bytes pop() {
        Bytes out = front();
        backlog.pop_front();
        return out;
    }

    std::unique_ptr<uint8_t[]> storage;
    Backlog backlog;
    uint64_t dropped = 0;
};

Bytes message(size_t length, uint8_t fill) {
    Bytes m(length);
    for (size_t i = 0; i < length; ++i) {
        m[i] = static_cast<uint8_t>(fill + i);
    }
    return m;
}

TEST(Backlog, StartsEmpty) {
    Fixture f(64);
    EXPECT_EQ(f.backlog.messages(), 0u);
    EXPECT_EQ(f.backlog.bytes(), 0u);
    EXPECT_EQ(f.backlog.capacity(), 64u);
    const uint8_t* data = nullptr;
    size_t length = 99;
    EXPECT_FALSE(f.backlog.front(data, length));
}

TEST(Backlog, PopOnEmptyDoesNothing) {
    Fixture f(16);
    f.backlog.pop_front();
    f.backlog.pop_front();
    EXPECT_EQ(f.backlog.messages(), 0u);
    EXPECT_EQ(f.backlog.bytes(), 0u);
    ASSERT_TRUE(f.push(message(3, 1)));
    EXPECT_EQ(f.pop(), message(3, 1));
    f.backlog.pop_front();
    EXPECT_EQ(f.backlog.messages(), 0u);
    EXPECT_EQ(f.backlog.bytes(), 0u);
}

TEST(Backlog, FirstInFirstOut) {
    Fixture f(256);
    const std::vector<Bytes> messages = {message(1, 10), message(20, 20), message(7, 30),
                                         message(0, 0), message(100, 40)};
    size_t bytes = 0;
    for (const Bytes& m : messages) {
        ASSERT_TRUE(f.push(m));
        bytes += 2 + m.size();
    }
    EXPECT_EQ(f.backlog.messages(), messages.size());
    EXPECT_EQ(f.backlog.bytes(), bytes);
    EXPECT_EQ(f.dropped, 0u);
    for (const Bytes& m : messages) {
        EXPECT_EQ(f.pop(), m);
    }
    EXPECT_EQ(f.backlog.messages(), 0u);
    EXPECT_EQ(f.backlog.bytes(), 0u);
}

TEST(Backlog, FrontDoesNotConsume) {
    Fixture f(32);
    ASSERT_TRUE(f.push(message(4, 1)));
    ASSERT_TRUE(f.push(message(4, 9)));
    EXPECT_EQ(f.front(), message(4, 1));
    EXPECT_EQ(f.front(), message(4, 1));
    EXPECT_EQ(f.backlog.messages(), 2u);
}

TEST(Backlog, ReserveDropsTheOldestAndCountsThem) {
    Fixture f(20);
    ASSERT_TRUE(f.push(message(4, 1)));  // 6 bytes each
    ASSERT_TRUE(f.push(message(4, 2)));
    ASSERT_TRUE(f.push(message(4, 3)));
    EXPECT_EQ(f.backlog.bytes(), 18u);
    // 2 bytes free; a 4-byte message needs 6: the oldest goes.
    ASSERT_TRUE(f.push(message(4, 4)));
    EXPECT_EQ(f.dropped, 1u);
    EXPECT_EQ(f.backlog.messages(), 3u);
    EXPECT_EQ(f.front(), message(4, 2));
    // A 16-byte message needs 18: all three go.
    ASSERT_TRUE(f.push(message(16, 5)));
    EXPECT_EQ(f.dropped, 4u);
    EXPECT_EQ(f.backlog.messages(), 1u);
    EXPECT_EQ(f.pop(), message(16, 5));
}

TEST(Backlog, DroppedIsAddedToNotReset) {
    Fixture f(10);
    f.dropped = 41;
    ASSERT_TRUE(f.push(message(8, 1)));
    EXPECT_EQ(f.dropped, 41u);
    ASSERT_TRUE(f.push(message(8, 2)));
    EXPECT_EQ(f.dropped, 42u);
}

TEST(Backlog, ReserveWithoutRoomToMakeDropsNothing) {
    Fixture f(20);
    ASSERT_TRUE(f.push(message(4, 1)));
    uint64_t dropped = 0;
    EXPECT_EQ(f.backlog.reserve(19, dropped), nullptr);
    EXPECT_EQ(dropped, 0u);
    EXPECT_EQ(f.backlog.messages(), 1u);
    EXPECT_EQ(f.front(), message(4, 1));
}

TEST(Backlog, CommitSmallerThanReserved) {
    Fixture f(40);
    uint64_t dropped = 0;
    uint8_t* at = f.backlog.reserve(30, dropped);
    ASSERT_NE(at, nullptr);
    const Bytes small = message(5, 7);
    std::memcpy(at, small.data(), small.size());
    f.backlog.commit(small.size());
    EXPECT_EQ(f.backlog.bytes(), 7u);
    EXPECT_EQ(f.backlog.messages(), 1u);
    EXPECT_EQ(f.front(), small);
    // The unused reservation is free again: 33 bytes remain, enough for 31 + 2.
    ASSERT_TRUE(f.push(message(31, 1)));
    EXPECT_EQ(f.dropped, 0u);
    EXPECT_EQ(f.backlog.bytes(), 40u);
    EXPECT_EQ(f.pop(), small);
    EXPECT_EQ(f.pop(), message(31, 1));
}

TEST(Backlog, ReserveTwiceWithoutCommitGivesTheSamePlace) {
    Fixture f(32);
    ASSERT_TRUE(f.push(message(3, 1)));
    uint64_t dropped = 0;
    uint8_t* first = f.backlog.reserve(10, dropped);
    uint8_t* second = f.backlog.reserve(10, dropped);
    EXPECT_EQ(first, second);
    EXPECT_EQ(f.backlog.messages(), 1u);
    EXPECT_EQ(f.backlog.bytes(), 5u);
}

TEST(Backlog, ExactFit) {
    Fixture f(10);
    ASSERT_TRUE(f.push(message(8, 3)));
    EXPECT_EQ(f.backlog.bytes(), 10u);
    EXPECT_EQ(f.dropped, 0u);
    EXPECT_EQ(f.front(), message(8, 3));
    // Even an empty message needs its 2-byte length: the full one goes.
    ASSERT_TRUE(f.push(Bytes{}));
    EXPECT_EQ(f.dropped, 1u);
    EXPECT_EQ(f.backlog.messages(), 1u);
    EXPECT_EQ(f.backlog.bytes(), 2u);
    EXPECT_EQ(f.pop(), Bytes{});
    // Several messages that exactly fill it.
    ASSERT_TRUE(f.push(message(3, 1)));
    ASSERT_TRUE(f.push(message(3, 2)));
    EXPECT_EQ(f.backlog.bytes(), 10u);
    EXPECT_EQ(f.dropped, 1u);
}

TEST(Backlog, MessageLargerThanCapacityIsRefused) {
    Fixture f(10);
    ASSERT_TRUE(f.push(message(2, 1)));
    uint64_t dropped = 0;
    EXPECT_EQ(f.backlog.reserve(9, dropped), nullptr);  // 9 + 2 > 10
    EXPECT_EQ(f.backlog.reserve(1000, dropped), nullptr);
    EXPECT_EQ(f.backlog.reserve(SIZE_MAX - 1, dropped), nullptr);
    EXPECT_EQ(dropped, 0u);
    EXPECT_EQ(f.backlog.messages(), 1u);  // nothing was dropped for a message that cannot fit
    EXPECT_NE(f.backlog.reserve(8, dropped), nullptr);
}

TEST(Backlog, MessageLongerThanTheLengthFieldIsRefused) {
    Fixture f(70000);
    uint64_t dropped = 0;
    EXPECT_EQ(f.backlog.reserve(65536, dropped), nullptr);
    uint8_t* at = f.backlog.reserve(65535, dropped);
    ASSERT_NE(at, nullptr);
    std::memset(at, 0x5A, 65535);
    f.backlog.commit(65535);
    const uint8_t* data = nullptr;
    size_t length = 0;
    ASSERT_TRUE(f.backlog.front(data, length));
    EXPECT_EQ(length, 65535u);
    EXPECT_EQ(data[65534], 0x5A);
}

TEST(Backlog, MatchesAQueueModelUnderRandomUse) {
    std::mt19937 random(7);
    for (size_t capacity : {size_t{2}, size_t{17}, size_t{64}, size_t{300}}) {
        Fixture f(capacity);
        std::deque<Bytes> model;
        uint64_t model_dropped = 0;
        for (int step = 0; step < 5000; ++step) {
            if (random() % 3 == 0) {
                if (model.empty()) {
                    f.backlog.pop_front();
                    EXPECT_EQ(f.backlog.messages(), 0u);
                    continue;
                }
                ASSERT_EQ(f.pop(), model.front());
                model.pop_front();
                continue;
            }
            const size_t reserve = random() % (capacity + 4);
            const size_t length = reserve == 0 ? 0 : random() % (reserve + 1);
            const Bytes m = message(length, static_cast<uint8_t>(step));
            const bool fits = reserve + 2 <= capacity;
            ASSERT_EQ(f.push(m, reserve), fits);
            if (fits) {
                size_t used = 0;
                for (const Bytes& q : model) {
                    used += 2 + q.size();
                }
                while (capacity - used < reserve + 2) {
                    used -= 2 + model.front().size();
                    model.pop_front();
                    ++model_dropped;
                }
                model.push_back(m);
            }
            size_t used = 0;
            for (const Bytes& q : model) {
                used += 2 + q.size();
            }
            ASSERT_EQ(f.backlog.messages(), model.size());
            ASSERT_EQ(f.backlog.bytes(), used);
            ASSERT_EQ(f.dropped, model_dropped);
            if (!model.empty()) {
                ASSERT_EQ(f.front(), model.front());
            }
        }
    }
}

}  // namespace
