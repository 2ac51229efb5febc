// How fast the hub matches what devices report about themselves against the whole vulnerability
// catalog: a mix of system-information strings (RTOSes and stacks the catalog knows at affected
// and fixed releases, distribution kernels, names it does not know, hostile text), each matched
// as one device's report would be.
//
//   vigil_bench_vuln_match CATALOG [--rounds N]
//
// Prints BENCH vuln_match_per_second (system-information reports matched per second, one core)
// and vuln_catalog_entries.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "vigil/hub/recommend/vulnerability_catalog.hpp"

using namespace vigil::hub;
using namespace vigil::hub::recommend;

namespace {

SystemInfo report(const char* os_name, const char* os_version, const char* stack_name,
                  const char* stack_version) {
    SystemInfo system;
    system.os_name = os_name;
    system.os_version = os_version;
    system.stack_name = stack_name;
    system.stack_version = stack_version;
    return system;
}

std::vector<SystemInfo> mix() {
    return {
        report("Eclipse ThreadX", "6.2.1", "NetX Duo", "6.2.1"),
        report("Eclipse ThreadX", "6.4.3", "NetX Duo", "6.4.3"),
        report("Azure RTOS ThreadX", "6.1.10", "Azure RTOS NetX Duo", "6.1.10"),
        report("Debian GNU/Linux", "12", "Linux", "6.1.0-13-amd64"),
        report("Buildroot", "2023.02", "Linux", "4.19.51"),
        report("FreeRTOS", "V10.4.3", "FreeRTOS-Plus-TCP", "4.1.0"),
        report("Zephyr", "v3.5.0", "", ""),
        report("bare metal", "", "lwIP", "2.1.3"),
        report("VxWorks", "7", "IPnet", "7"),
        report("ThreadX 6.1.7", "", "", ""),
        report("Nucleus ReadyStart", "2017.02.2", "Nucleus NET", "5.1"),
        report("acme-os", "1.0", "acme-ip", "2.0"),
        report(std::string(300, 'A').c_str(), "1", "NetX Duo", "6.2.1\n\xff forged"),
    };
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: vigil_bench_vuln_match CATALOG [--rounds N]\n");
        return 2;
    }
    long rounds = 200000;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--rounds") == 0) {
            rounds = std::atol(argv[i + 1]);
        }
    }
    std::ifstream in(argv[1], std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    std::vector<vigil::hub::detect::PolicyError> errors;
    const auto catalog = VulnerabilityCatalog::parse(text.str(), argv[1], errors);
    if (!catalog) {
        std::fprintf(stderr, "%s:%d: %s\n", argv[1], errors.empty() ? 0 : errors[0].line,
                     errors.empty() ? "unreadable" : errors[0].message.c_str());
        return 1;
    }
    const std::vector<SystemInfo> reports = mix();
    size_t found = 0;
    const auto start = std::chrono::steady_clock::now();
    for (long round = 0; round < rounds; ++round) {
        for (const auto& component : catalog->match(reports[round % reports.size()])) {
            found += component.vulnerabilities.size();
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%ld system-information reports matched in %.3f s (%zu vulnerabilities found)\n",
                rounds, seconds, found);
    std::printf("BENCH vuln_match_per_second %.0f reports/s\n",
                static_cast<double>(rounds) / seconds);
    std::printf("BENCH vuln_catalog_entries %zu entries\n", catalog->vulnerabilities().size());
    return found == 0 ? 1 : 0;
}
