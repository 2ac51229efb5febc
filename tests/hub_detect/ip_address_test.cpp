#include "vigil/hub/detect/ip_address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

namespace vigil::hub::detect {
namespace {

TEST(IpAddress, ParsesBothFamiliesAndPrintsThemBack) {
    for (const char* text : {"0.0.0.0", "192.0.2.1", "255.255.255.255", "::", "::1", "2001:db8::1",
                             "fe80::1:2:3:4", "::ffff:192.0.2.1"}) {
        const auto address = parse_ip(text);
        ASSERT_TRUE(address) << text;
        EXPECT_EQ(to_string(*address), text);
    }
    EXPECT_EQ(parse_ip("192.0.2.1")->family, Family::V4);
    EXPECT_EQ(parse_ip("192.0.2.1")->value, 0xC0000201u);
    EXPECT_EQ(parse_ip("::1")->family, Family::V6);
}

TEST(IpAddress, RefusesWhatIsNotAnAddress) {
    for (const char* text :
         {"", "192.0.2", "192.0.2.256", "192.0.2.1 ", " 192.0.2.1", "1.2.3.4.5", "2001:db8:::1",
          "fe80::1%eth0", "[::1]", "192.0.2.1:80", "example.org", "0x7f.1.1.1"}) {
        EXPECT_FALSE(parse_ip(text)) << text;
    }
    EXPECT_FALSE(parse_ip(std::string(100, '1')));
    EXPECT_FALSE(parse_ip(std::string("192.0.2.1\0", 10)));
    EXPECT_FALSE(parse_ip("01.2.3.4"));
    EXPECT_FALSE(parse_ip("1.2.3.04"));
    EXPECT_TRUE(parse_ip("1.2.3.0"));
}

// Dotted quads are read by hand: they must be exactly what inet_pton accepts, octet for octet.
RC_GTEST_PROP(IpAddress, Ipv4IsWhatInetPtonReads, ()) {
    // Mostly four octets, otherwise one to seven: numbers up to 300, some with leading zeros;
    // sometimes any characters.
    std::string text;
    if (*rc::gen::inRange(0, 5) == 0) {
        text = *rc::gen::container<std::string>(rc::gen::elementOf(std::string("0123456789.x")));
    } else {
        const size_t octets = *rc::gen::arbitrary<bool>() ? 4 : *rc::gen::inRange<size_t>(1, 8);
        for (size_t i = 0; i < octets; ++i) {
            text += i == 0 ? "" : ".";
            text += *rc::gen::inRange(0, 6) == 0 ? "0" : "";
            text += std::to_string(*rc::gen::inRange(0u, 300u));
        }
    }
    unsigned char bytes[4];
    const bool expected = inet_pton(AF_INET, text.c_str(), bytes) == 1;
    const auto parsed = parse_ip(text);
    RC_ASSERT(parsed.has_value() == expected);
    if (expected) {
        RC_ASSERT(parsed->value == (uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 |
                                    uint32_t{bytes[2]} << 8 | uint32_t{bytes[3]}));
    }
}

TEST(Cidr, ReadsBlocksAndBareAddresses) {
    auto block = parse_cidr("198.51.100.0/24");
    ASSERT_TRUE(block.cidr) << block.error;
    EXPECT_EQ(block.cidr->prefix, 24);
    EXPECT_EQ(to_string(block.cidr->last()), "198.51.100.255");
    EXPECT_TRUE(block.cidr->contains(*parse_ip("198.51.100.77")));
    EXPECT_FALSE(block.cidr->contains(*parse_ip("198.51.101.0")));
    EXPECT_FALSE(block.cidr->contains(*parse_ip("::ffff:198.51.100.77")));

    auto host = parse_cidr("2001:db8::5");
    ASSERT_TRUE(host.cidr);
    EXPECT_EQ(host.cidr->prefix, 128);

    auto everything = parse_cidr("::/0");
    ASSERT_TRUE(everything.cidr);
    EXPECT_EQ(to_string(everything.cidr->last()), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(Cidr, RefusesHostBitsAndBadPrefixesWithAReason) {
    EXPECT_NE(parse_cidr("192.0.2.5/24").error.find("host bits"), std::string::npos);
    EXPECT_NE(parse_cidr("192.0.2.0/33").error.find("prefix"), std::string::npos);
    EXPECT_NE(parse_cidr("2001:db8::/129").error.find("prefix"), std::string::npos);
    EXPECT_FALSE(parse_cidr("192.0.2.0/").cidr);
    EXPECT_FALSE(parse_cidr("192.0.2.0/2x").cidr);
    EXPECT_FALSE(parse_cidr("192.0.2.0/-1").cidr);
    EXPECT_FALSE(parse_cidr("/24").cidr);
}

}  // namespace
}  // namespace vigil::hub::detect
