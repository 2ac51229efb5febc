#include "vigil/hub/detect/feed.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "csv.hpp"

namespace vigil::hub::detect {
namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    return text;
}

std::string lowercase(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower;
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

/// Calls `each(line_number, line)` for every line, without its end of line (LF or CRLF).
template <typename Each>
void for_each_line(std::string_view text, Each&& each) {
    uint32_t number = 0;
    while (!text.empty()) {
        const size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        each(++number, line);
        if (end == std::string_view::npos) {
            break;
        }
        text.remove_prefix(end + 1);
    }
}

bool is_comment_or_blank(std::string_view line) {
    const std::string_view content = trim(line);
    return content.empty() || content.front() == '#' || content.front() == ';';
}

int column_named(const std::vector<std::string>& header, std::initializer_list<const char*> names) {
    for (size_t i = 0; i < header.size(); ++i) {
        const std::string name = lowercase(trim(header[i]));
        for (const char* wanted : names) {
            if (name == wanted) {
                return static_cast<int>(i);
            }
        }
    }
    return -1;
}

void read_plain_list(std::string_view text, Feed& feed, std::string_view default_category) {
    for_each_line(text, [&](uint32_t number, std::string_view line) {
        const size_t comment = line.find_first_of("#;");
        const std::string_view content = trim(line.substr(0, comment));
        if (content.empty()) {
            return;
        }
        if (content.find_first_of(" \t,") != std::string_view::npos) {
            feed.errors.push_back(
                {feed.name, number, "one address or CIDR block per line, found more"});
            return;
        }
        CidrParse parsed = parse_cidr(content);
        if (!parsed.cidr) {
            feed.errors.push_back({feed.name, number, std::string(content) + ": " + parsed.error});
            return;
        }
        feed.indicators.push_back({*parsed.cidr, std::string(default_category), feed.name, number});
    });
}

void read_csv(std::string_view text, Feed& feed, std::string_view default_category) {
    bool have_header = false;
    int indicator_column = -1, category_column = -1, source_column = -1;
    for_each_line(text, [&](uint32_t number, std::string_view line) {
        if (is_comment_or_blank(line)) {
            return;
        }
        CsvLine fields = split_csv_line(line);
        if (!fields.error.empty()) {
            feed.errors.push_back({feed.name, number, fields.error});
            return;
        }
        if (!have_header) {
            have_header = true;
            indicator_column = column_named(
                fields.fields, {"indicator", "ip", "ip_address", "dst_ip", "cidr", "network"});
            category_column =
                column_named(fields.fields, {"category", "type", "malware", "threat"});
            source_column = column_named(fields.fields, {"source", "feed", "reference"});
            if (indicator_column < 0) {
                feed.errors.push_back({feed.name, number,
                                       "no indicator column (indicator, ip, ip_address, dst_ip, "
                                       "cidr or network) in the header"});
            }
            return;
        }
        if (indicator_column < 0) {
            return;  // said once, at the header
        }
        auto field = [&](int column) -> std::string_view {
            return column >= 0 && static_cast<size_t>(column) < fields.fields.size()
                       ? trim(fields.fields[static_cast<size_t>(column)])
                       : std::string_view();
        };
        if (static_cast<size_t>(indicator_column) >= fields.fields.size()) {
            feed.errors.push_back({feed.name, number, "fewer columns than the header"});
            return;
        }
        const std::string_view indicator = field(indicator_column);
        CidrParse parsed = parse_cidr(indicator);
        if (!parsed.cidr) {
            feed.errors.push_back(
                {feed.name, number, std::string(indicator) + ": " + parsed.error});
            return;
        }
        const std::string_view category = field(category_column);
        const std::string_view source = field(source_column);
        feed.indicators.push_back({*parsed.cidr,
                                   std::string(category.empty() ? default_category : category),
                                   source.empty() ? feed.name : std::string(source), number});
    });
    if (!have_header) {
        feed.errors.push_back({feed.name, 0, "no header line"});
    }
}

}  // namespace

bool feed_format_for(std::string_view file_name, FeedFormat& format) {
    const std::string name = lowercase(file_name);
    if (name.empty() || name.front() == '.') {
        return false;
    }
    if (ends_with(name, ".csv")) {
        format = FeedFormat::Csv;
        return true;
    }
    for (const char* suffix : {".txt", ".list", ".netset", ".ipset"}) {
        if (ends_with(name, suffix)) {
            format = FeedFormat::PlainList;
            return true;
        }
    }
    return false;
}

Feed parse_feed(std::string_view text, FeedFormat format, std::string_view name,
                std::string_view default_category) {
    Feed feed;
    feed.name = std::string(name);
    if (format == FeedFormat::Csv) {
        read_csv(text, feed, default_category);
    } else {
        read_plain_list(text, feed, default_category);
    }
    return feed;
}

}  // namespace vigil::hub::detect
