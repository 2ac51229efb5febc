// What every store call answers: a value or an error that says why there is none.
#pragma once

#include <string>

namespace vigil::hub {

/// The answer to a query: a value, or an error that says why there is none.
template <typename T>
struct Fetched {
    T value{};
    std::string error;  ///< empty when the query succeeded
    bool ok() const { return error.empty(); }
};

/// Outcome of a write other than a batch commit: empty error when it was committed.
struct Done {
    std::string error;
    bool ok() const { return error.empty(); }
};

}  // namespace vigil::hub
