// Text for people: values, times and tables as the commands print them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vigil::cli {

/// A JSON value as a cell: "-" for null or an empty string, strings bare, the rest as JSON.
std::string text(const nlohmann::json& value);
/// Milliseconds since 1970 as ISO 8601 UTC; "-" when absent or not positive.
std::string time_text(const nlohmann::json& ms);
/// time_text, but "never" for null: a device that has sent nothing yet has no times.
std::string seen_text(const nlohmann::json& ms);
/// Columns padded to their widest cell.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

}  // namespace vigil::cli
