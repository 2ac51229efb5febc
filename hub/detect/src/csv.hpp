// One line of CSV split into fields (RFC 4180 quoting, one record per line). Hand-written: the
// chosen dependencies have no CSV reader, and feeds need only this much.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil::hub::detect {

struct CsvLine {
    std::vector<std::string> fields;
    std::string error;  ///< a quote left open or text after a closing quote
};

CsvLine split_csv_line(std::string_view line);

}  // namespace vigil::hub::detect
