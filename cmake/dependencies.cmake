# Every external dependency of the host build, looked up once, here, for the parts the options
# turn on. Targets below use the imported targets this file makes and look nothing up
# themselves. The agent core needs none of them.
#
#   nlohmann_json::nlohmann_json  the hosted protocol library, hub, tools, tests
#   vigil::pcap                   libpcap (POSIX packet sources)
#   PkgConfig::LWIP               Debian's liblwip (lwIP port, lwIP device, MQTT over lwIP)
#   PkgConfig::MOSQUITTO          libmosquitto (vigil-agent, hub broker administration, tests)
#   PkgConfig::HTTPLIB            cpp-httplib (hub API, vigil, tests); Debian builds it as a
#                                 shared library whose pkg-config file carries the CPPHTTPLIB_*
#                                 definitions every user must share
#   SQLite::SQLite3, flatbuffers::flatc, OpenSSL::*, CLI11::CLI11, tomlplusplus::tomlplusplus,
#   Threads::Threads, GTest::*, rapidcheck, benchmark::benchmark

if(VIGIL_BUILD_LWIP OR VIGIL_BUILD_LINUX_AGENT OR VIGIL_BUILD_HUB OR VIGIL_BUILD_CLI
   OR VIGIL_BUILD_TESTS)
  find_package(PkgConfig REQUIRED)
endif()

if(VIGIL_BUILD_PROTOCOL_HOSTED)
  find_package(nlohmann_json 3 REQUIRED)
endif()

if(VIGIL_BUILD_POSIX)
  find_path(VIGIL_PCAP_INCLUDE_DIR pcap/pcap.h)
  find_library(VIGIL_PCAP_LIBRARY pcap)
  if(NOT VIGIL_PCAP_INCLUDE_DIR OR NOT VIGIL_PCAP_LIBRARY)
    message(FATAL_ERROR "libpcap not found (Debian: apt-get install libpcap-dev), "
                        "or configure with -DVIGIL_BUILD_POSIX=OFF")
  endif()
  add_library(vigil::pcap UNKNOWN IMPORTED)
  set_target_properties(vigil::pcap PROPERTIES IMPORTED_LOCATION ${VIGIL_PCAP_LIBRARY}
                                               INTERFACE_INCLUDE_DIRECTORIES ${VIGIL_PCAP_INCLUDE_DIR})
endif()

if(VIGIL_BUILD_LWIP)
  pkg_check_modules(LWIP REQUIRED IMPORTED_TARGET lwip)
endif()

if(VIGIL_BUILD_LWIP OR VIGIL_BUILD_NETXDUO OR VIGIL_BUILD_LINUX_AGENT OR VIGIL_BUILD_HUB OR VIGIL_BUILD_TESTS
   OR VIGIL_BUILD_BENCH)
  find_package(Threads REQUIRED)
endif()

if(VIGIL_BUILD_LINUX_AGENT OR VIGIL_BUILD_HUB OR VIGIL_BUILD_TESTS)
  pkg_check_modules(MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)
endif()

if(VIGIL_BUILD_LINUX_AGENT OR VIGIL_BUILD_HUB)
  find_package(OpenSSL REQUIRED)
endif()

if(VIGIL_BUILD_LINUX_AGENT OR VIGIL_BUILD_HUB OR VIGIL_BUILD_CLI)
  find_package(CLI11 REQUIRED)
endif()

# The agent's settings and the hub's detection policy.
if(VIGIL_BUILD_LINUX_AGENT OR VIGIL_BUILD_HUB)
  find_package(tomlplusplus REQUIRED)
endif()

if(VIGIL_BUILD_HUB OR VIGIL_BUILD_CLI OR VIGIL_BUILD_TESTS)
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()

if(VIGIL_BUILD_HUB)
  find_package(SQLite3 REQUIRED)
  find_package(FlatBuffers REQUIRED)
endif()

# The tests' frameworks, and Debian's python for the end-to-end checks (its python3-cbor2 and
# standard library), not whatever python3 comes first on PATH.
if(VIGIL_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(rapidcheck REQUIRED)
  find_program(VIGIL_SYSTEM_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)
endif()

if(VIGIL_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
