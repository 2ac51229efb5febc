// libFuzzer target for threat-intelligence feeds. The first byte picks the format (even: plain
// list, odd: CSV); the rest is the feed. For every input: no crash or out-of-bounds read (ASan),
// every error names a line the input has, every indicator is a valid block whose network has no
// host bits, and the set built from the feed finds, for each indicator's first and last
// address, an indicator at least as specific that holds it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "vigil/hub/detect/threat_intel.hpp"

namespace {

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "ti_feed_fuzz: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace vigil::hub::detect;
    if (size == 0) {
        return 0;
    }
    const FeedFormat format = (data[0] & 1) != 0 ? FeedFormat::Csv : FeedFormat::PlainList;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    size_t lines = 1;
    for (char c : text) {
        lines += c == '\n';
    }
    Feed feed = parse_feed(text, format, "fuzz");
    for (const FeedError& error : feed.errors) {
        require(error.line <= lines, "an error names a line past the end");
        require(!error.message.empty(), "an error without a message");
    }
    for (const Indicator& indicator : feed.indicators) {
        require(indicator.line >= 1 && indicator.line <= lines, "an indicator's line is wrong");
        require(indicator.block.prefix <= IpAddress::bits(indicator.block.network.family),
                "a prefix longer than the address");
        const CidrParse again = parse_cidr(to_string(indicator.block));
        require(again.cidr && again.cidr->network == indicator.block.network &&
                    again.cidr->prefix == indicator.block.prefix,
                "a block does not read back as itself");
    }
    const std::vector<Indicator> indicators = feed.indicators;
    const ThreatIntel intel({std::move(feed)});
    for (const Indicator& indicator : indicators) {
        for (const IpAddress& address : {indicator.block.network, indicator.block.last()}) {
            const Indicator* found = intel.find(address);
            require(found != nullptr, "a listed address is not found");
            require(found->block.contains(address), "the entry found does not hold the address");
            require(found->block.prefix >= indicator.block.prefix,
                    "a less specific entry won over a more specific one");
        }
    }
    return 0;
}
