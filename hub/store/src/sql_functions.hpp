// Functions of the project's own that the store's queries call, added to every connection that
// reads: vigil_flow_direction(remote_opened, protocol, local_port, remote_port) answers
// direction_of() (flow_direction.hpp) as FlowDirection's number.
#pragma once

#include <string>

#include "vigil/hub/sqlite/connection.hpp"

namespace vigil::hub::sqlite {

bool add_flow_functions(Connection& connection, std::string& error);

}  // namespace vigil::hub::sqlite
