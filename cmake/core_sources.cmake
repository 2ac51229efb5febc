# The sources of the embeddable core: the freestanding wire format and the agent. One list for
# every build that compiles the core (the host build here, the Cortex-M build in
# agent/ports/cortex-m), so a file added to the core reaches both.
get_filename_component(vigil_core_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

set(VIGIL_PROTOCOL_CORE_SOURCES
  ${vigil_core_root}/protocol/src/cbor.cpp
  ${vigil_core_root}/protocol/src/wire.cpp
  ${vigil_core_root}/protocol/src/topic.cpp)
set(VIGIL_PROTOCOL_CORE_INCLUDE_DIR ${vigil_core_root}/protocol/include)

set(VIGIL_AGENT_CORE_SOURCES
  ${vigil_core_root}/agent/src/agent.cpp
  ${vigil_core_root}/agent/src/backlog.cpp
  ${vigil_core_root}/agent/src/c_api.cpp
  ${vigil_core_root}/agent/src/messages.cpp)
set(VIGIL_AGENT_CORE_INCLUDE_DIR ${vigil_core_root}/agent/include)

# The headers an application compiles against: the agent's API (C and C++, with the detail
# headers its templates include) and the freestanding wire format they use.
set(VIGIL_PROTOCOL_CORE_HEADERS
  ${vigil_core_root}/protocol/include/vigil/protocol/cbor.h
  ${vigil_core_root}/protocol/include/vigil/protocol/device_id.h
  ${vigil_core_root}/protocol/include/vigil/protocol/topic.h
  ${vigil_core_root}/protocol/include/vigil/protocol/wire.h)
