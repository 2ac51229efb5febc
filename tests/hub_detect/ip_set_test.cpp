#include "vigil/hub/detect/ip_set.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

namespace vigil::hub::detect {
namespace {

Cidr block(const char* text) {
    CidrParse parsed = parse_cidr(text);
    EXPECT_TRUE(parsed.cidr) << text << ": " << parsed.error;
    return parsed.cidr.value_or(Cidr{});
}

IpAddress ip(const char* text) {
    return parse_ip(text).value();
}

/// What the set must answer: the longest block holding the address, the first id given among
/// equal blocks.
uint32_t longest_match(const std::vector<std::pair<Cidr, uint32_t>>& blocks,
                       const IpAddress& address) {
    uint32_t best = IpSet::kNone;
    int best_prefix = -1;
    for (const auto& [cidr, id] : blocks) {
        if (cidr.contains(address) && cidr.prefix > best_prefix) {
            best = id;
            best_prefix = cidr.prefix;
        }
    }
    return best;
}

/// Each address of `answers` must find the id beside it (IpSet::kNone: no block).
void expect_answers(const IpSet& set,
                    std::initializer_list<std::pair<const char*, uint32_t>> answers) {
    for (const auto& [address, id] : answers) {
        EXPECT_EQ(set.find(ip(address)), id) << address;
    }
}

constexpr uint32_t kNone = IpSet::kNone;

TEST(IpSet, AListedHostDoesNotListItsNeighbours) {
    IpSet set({{block("203.0.113.7"), 1}, {block("2001:db8::7"), 2}});
    expect_answers(set, {{"203.0.113.7", 1},
                         {"203.0.113.6", kNone},
                         {"203.0.113.8", kNone},
                         {"203.0.112.7", kNone},
                         {"2001:db8::7", 2},
                         {"2001:db8::6", kNone},
                         {"2001:db8::8", kNone}});
    // The families stay apart: the IPv4-mapped form of a listed address is another address.
    expect_answers(set, {{"::ffff:203.0.113.7", kNone}});
}

TEST(IpSet, TheMostSpecificBlockWins) {
    IpSet set({{block("10.0.0.0/8"), 1},
               {block("10.1.0.0/16"), 2},
               {block("10.1.2.0/24"), 3},
               {block("10.1.2.3/32"), 4}});
    expect_answers(set, {{"10.200.0.1", 1},
                         {"10.1.255.255", 2},
                         {"10.1.2.0", 3},
                         {"10.1.2.3", 4},
                         {"10.1.2.4", 3},
                         {"10.1.3.0", 2},
                         {"11.0.0.0", kNone},
                         {"9.255.255.255", kNone}});
}

TEST(IpSet, BlocksAtTheEdgesOfTheAddressSpace) {
    IpSet set({{block("0.0.0.0/0"), 1},
               {block("255.255.255.255"), 2},
               {block("0.0.0.0"), 3},
               {block("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120"), 4},
               {block("::/128"), 5}});
    expect_answers(set, {{"255.255.255.255", 2},
                         {"255.255.255.254", 1},
                         {"0.0.0.0", 3},
                         {"0.0.0.1", 1},
                         {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 4},
                         {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff", kNone},
                         {"::", 5},
                         {"::1", kNone}});
}

TEST(IpSet, ABlockListedTwiceKeepsItsFirstId) {
    IpSet set({{block("198.51.100.0/24"), 7}, {block("198.51.100.0/24"), 8}});
    expect_answers(set, {{"198.51.100.1", 7}});
    EXPECT_EQ(set.blocks(), 1u);  // distinct blocks
}

TEST(IpSet, AnEmptySetHoldsNothing) {
    IpSet set;
    expect_answers(set, {{"192.0.2.1", kNone}, {"2001:db8::1", kNone}});
}

// Blocks drawn near each other so that they nest, touch and split each other often.
rc::Gen<Cidr> nearby_block(Family family) {
    return rc::gen::map(
        rc::gen::tuple(rc::gen::inRange<uint32_t>(0, 64), rc::gen::inRange<int>(0, 33)),
        [family](const std::tuple<uint32_t, int>& drawn) {
            const auto [low, prefix_draw] = drawn;
            Cidr cidr;
            cidr.network.family = family;
            const int width = IpAddress::bits(family);
            // Most prefixes long (hosts and small blocks), some very short.
            const int prefix = prefix_draw >= 32 ? prefix_draw % 3 : width - prefix_draw % 8;
            cidr.prefix = static_cast<uint8_t>(prefix);
            unsigned __int128 value = low;
            if (family == Family::V4) {
                value |= static_cast<unsigned __int128>(0xC6336400u);  // 198.51.100.0
            } else {
                value |= static_cast<unsigned __int128>(0x20010db8u) << 96;
            }
            const int host_bits = width - prefix;
            if (host_bits >= 128) {
                value = 0;
            } else if (host_bits > 0) {
                value &= ~((static_cast<unsigned __int128>(1) << host_bits) - 1);
            }
            cidr.network.value = value;
            return cidr;
        });
}

RC_GTEST_PROP(IpSet, AnswersAsTheLongestMatchOverEveryBlock, ()) {
    const Family family = *rc::gen::element(Family::V4, Family::V6);
    const auto cidrs = *rc::gen::container<std::vector<Cidr>>(nearby_block(family));
    std::vector<std::pair<Cidr, uint32_t>> blocks;
    for (const Cidr& cidr : cidrs) {
        blocks.emplace_back(cidr, static_cast<uint32_t>(blocks.size()));
    }
    IpSet set(blocks);
    // Every block's edges and their neighbours, and addresses around the cluster.
    std::vector<IpAddress> probes;
    for (const Cidr& cidr : cidrs) {
        for (unsigned __int128 value : {cidr.network.value, cidr.last().value,
                                        cidr.network.value - 1, cidr.last().value + 1}) {
            probes.push_back(IpAddress{family, family == Family::V4 ? value & 0xFFFFFFFFu : value});
        }
    }
    for (uint32_t low = 0; low < 80; ++low) {
        probes.push_back(IpAddress{
            family, (family == Family::V4 ? static_cast<unsigned __int128>(0xC6336400u)
                                          : static_cast<unsigned __int128>(0x20010db8u) << 96) |
                        low});
    }
    for (const IpAddress& probe : probes) {
        RC_ASSERT(set.find(probe) == longest_match(blocks, probe));
    }
}

}  // namespace
}  // namespace vigil::hub::detect
