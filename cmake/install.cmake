# Install and export rules: `cmake --install` puts the agent core (vigil::agent and the
# freestanding wire format it links, vigil::protocol_core) with its headers and a package
# configuration under the prefix, so that an application can
#
#   find_package(vigil 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE vigil::agent)
#
# The installed archive is built with the capacities of agent/include/vigil/agent/config.h as
# they were at build time; an application that sets its own (vigil_agent_config.h) builds the core
# from source instead (add_subdirectory or cmake/core_sources.cmake).
include(CMakePackageConfigHelpers)

set(VIGIL_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/vigil)

install(TARGETS vigil_agent vigil_protocol_core EXPORT vigil-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${VIGIL_AGENT_CORE_INCLUDE_DIR}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${VIGIL_PROTOCOL_CORE_HEADERS}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vigil/protocol)
install(EXPORT vigil-targets NAMESPACE vigil:: DESTINATION ${VIGIL_INSTALL_CMAKEDIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/vigil-config.cmake.in
                              ${PROJECT_BINARY_DIR}/vigil-config.cmake
                              INSTALL_DESTINATION ${VIGIL_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vigil-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vigil-config.cmake
              ${PROJECT_BINARY_DIR}/vigil-config-version.cmake
        DESTINATION ${VIGIL_INSTALL_CMAKEDIR})
