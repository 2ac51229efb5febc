// Threat-intelligence feeds as files: what one file holds, and how a line of it is read.
//
//   plain list (.txt, .list, .netset, .ipset): one address or CIDR block per line; `#` and `;`
//     start a comment (FireHOL, abuse.ch, Spamhaus DROP's legacy text)
//   CSV (.csv): the first line that is not a comment names the columns; the indicator is in the
//     column named indicator, ip, ip_address, dst_ip, cidr or network; optional columns
//     category (or type, malware, threat) and source (or feed, reference). Quoted fields as in
//     RFC 4180.
//
// A line that cannot be read is reported with its file and line and skipped; the rest of the
// feed stands.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/hub/detect/ip_address.hpp"

namespace vigil::hub::detect {

enum class FeedFormat : uint8_t { PlainList, Csv };

struct Indicator {
    Cidr block;
    std::string category;  ///< from the feed's category column; else the feed's default
    std::string source;    ///< from the feed's source column; else the feed's name
    uint32_t line = 0;     ///< where the feed says so (1-based)
};

struct FeedError {
    std::string feed;
    uint32_t line = 0;  ///< 0: about the whole feed
    std::string message;
};

struct Feed {
    std::string name;  ///< the file's name
    std::vector<Indicator> indicators;
    std::vector<FeedError> errors;
};

/// The format a file's name asks for; false when the name is not a feed's (README, a backup).
bool feed_format_for(std::string_view file_name, FeedFormat& format);

/// Reads a whole feed. `default_category` labels indicators that carry none.
Feed parse_feed(std::string_view text, FeedFormat format, std::string_view name,
                std::string_view default_category = "malicious");

}  // namespace vigil::hub::detect
