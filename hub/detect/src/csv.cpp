#include "csv.hpp"

namespace vigil::hub::detect {

CsvLine split_csv_line(std::string_view line) {
    CsvLine result;
    std::string field;
    size_t at = 0;
    for (;;) {
        field.clear();
        if (at < line.size() && line[at] == '"') {
            ++at;
            bool closed = false;
            while (at < line.size()) {
                if (line[at] == '"') {
                    if (at + 1 < line.size() && line[at + 1] == '"') {
                        field += '"';
                        at += 2;
                        continue;
                    }
                    ++at;
                    closed = true;
                    break;
                }
                field += line[at++];
            }
            if (!closed) {
                result.error = "a quoted field is not closed";
                return result;
            }
            while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) {
                ++at;
            }
            if (at < line.size() && line[at] != ',') {
                result.error = "text after a closing quote";
                return result;
            }
        } else {
            const size_t comma = line.find(',', at);
            const size_t end = comma == std::string_view::npos ? line.size() : comma;
            field.assign(line.substr(at, end - at));
            at = end;
        }
        result.fields.push_back(field);
        if (at >= line.size()) {
            return result;
        }
        ++at;  // the comma
    }
}

}  // namespace vigil::hub::detect
