// Release numbers: what is read, what is refused and why, and the order they sort in.
#include "vigil/hub/recommend/version.hpp"

#include <string>

#include <gtest/gtest.h>

namespace vigil::hub::recommend {
namespace {

Version v(const char* text) {
    const VersionReading reading = read_version(text);
    EXPECT_TRUE(reading.version.has_value()) << text << ": " << reading.why_unknown;
    return reading.version.value_or(Version{});
}

TEST(Version, ReadsDottedReleasesWithAnOptionalV) {
    EXPECT_EQ(v("6.4.1").text(), "6.4.1");
    EXPECT_EQ(v("v2.1.3").text(), "2.1.3");
    EXPECT_EQ(v("V10.0.1").text(), "10.0.1");
    EXPECT_EQ(v("6.0.1.67").text(), "6.0.1.67");
    EXPECT_EQ(v("2017.02.3").text(), "2017.2.3");
    EXPECT_EQ(v("7").text(), "7");
}

TEST(Version, OrdersNumericallyWithMissingPartsAsZero) {
    EXPECT_TRUE(v("6.2.1") < v("6.3.0"));
    EXPECT_TRUE(v("6.10") > v("6.9.9"));
    EXPECT_TRUE(v("6.3") == v("6.3.0"));
    EXPECT_TRUE(v("4.19.51") < v("4.19.52"));
    EXPECT_TRUE(v("6.0.1.66") < v("6.0.1.67"));
    EXPECT_FALSE(v("2.1.3") < v("2.1.3"));
}

TEST(Version, VendorBuildsAndPreReleasesAreUnknownNeverRounded) {
    for (const char* text : {"6.1.0-13-amd64", "2.1.3-rc1", "5.10.0+deb11", "6.3.0 beta",
                             "7 SR0620", "6.4.1_patched"}) {
        const VersionReading reading = read_version(text);
        EXPECT_FALSE(reading.version.has_value()) << text;
        EXPECT_NE(reading.why_unknown.find("after the release number"), std::string::npos)
            << text << ": " << reading.why_unknown;
    }
}

TEST(Version, HostileTextIsRefusedWithAReason) {
    const std::string huge(10000, '9');
    const std::string with_nul("6.2\0.1", 6);
    for (const std::string& text :
         {huge, with_nul, std::string("6.2\n.1"), std::string("\xff\xfe"), std::string(""),
          std::string("."), std::string("6..1"), std::string(".6"), std::string("6."),
          std::string("v"), std::string("99999999999"), std::string("1.2.3.4.5.6.7"),
          std::string("-1"), std::string(" 6.2.1")}) {
        const VersionReading reading = read_version(text);
        EXPECT_FALSE(reading.version.has_value()) << text;
        EXPECT_FALSE(reading.why_unknown.empty()) << text;
        // The reason never repeats what the device sent: it is shown as is.
        EXPECT_EQ(reading.why_unknown.find('\n'), std::string::npos);
        EXPECT_EQ(reading.why_unknown.find('\xff'), std::string::npos);
    }
    EXPECT_NE(read_version(huge).why_unknown.find("longer than 64 bytes"), std::string::npos);
}

}  // namespace
}  // namespace vigil::hub::recommend
