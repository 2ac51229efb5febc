#include "sql_functions.hpp"

#include <sqlite3.h>

#include "vigil/hub/flow_direction.hpp"

namespace vigil::hub::sqlite {

namespace {

// vigil_flow_direction(remote_opened, protocol, local_port, remote_port): direction_of() for SQL,
// so a query sums traffic by direction with the rule detection uses.
void flow_direction_function(sqlite3_context* context, int, sqlite3_value** arguments) {
    Flow flow;
    if (sqlite3_value_type(arguments[0]) != SQLITE_NULL) {
        flow.remote_opened = sqlite3_value_int64(arguments[0]) != 0;
    }
    flow.protocol = static_cast<Protocol>(sqlite3_value_int64(arguments[1]));
    flow.local_port = static_cast<uint16_t>(sqlite3_value_int64(arguments[2]));
    flow.remote_port = static_cast<uint16_t>(sqlite3_value_int64(arguments[3]));
    sqlite3_result_int(context, static_cast<int>(direction_of(flow)));
}

}  // namespace

bool add_flow_functions(Connection& connection, std::string& error) {
    if (sqlite3_create_function_v2(
            connection.handle(), "vigil_flow_direction", 4, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
            nullptr, &flow_direction_function, nullptr, nullptr, nullptr) != SQLITE_OK) {
        error = "cannot add the function vigil_flow_direction: " +
                std::string(sqlite3_errmsg(connection.handle()));
        return false;
    }
    return true;
}

}  // namespace vigil::hub::sqlite
