#include "output.hpp"

#include <algorithm>
#include <ctime>
#include <iostream>

namespace vigil::cli {

std::string time_text(const nlohmann::json& ms) {
    if (!ms.is_number_integer() || ms.get<int64_t>() <= 0) {
        return "-";
    }
    const std::time_t seconds = static_cast<std::time_t>(ms.get<int64_t>() / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buffer;
}

std::string seen_text(const nlohmann::json& ms) {
    return ms.is_null() ? "never" : time_text(ms);
}

std::string text(const nlohmann::json& value) {
    if (value.is_null()) {
        return "-";
    }
    if (value.is_string()) {
        const std::string s = value.get<std::string>();
        return s.empty() ? "-" : s;
    }
    return value.dump();
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> widths;
    for (const std::string& cell : header) {
        widths.push_back(cell.size());
    }
    for (const auto& row : rows) {
        for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    const auto print_row = [&widths](const std::vector<std::string>& row) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line += std::string(widths[i] - row[i].size() + 2, ' ');
            }
        }
        std::cout << line << "\n";
    };
    print_row(header);
    for (const auto& row : rows) {
        print_row(row);
    }
}

}  // namespace vigil::cli
