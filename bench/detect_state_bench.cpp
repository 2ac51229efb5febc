// Detection's state per device at steady state, and how fast one core runs the detections:
// 10,000 devices of mixed traffic (a telemetry link to the hub, DNS and NTP, a cloud API over a
// few addresses, inbound clients on the device's own services, a few devices being scanned or
// scanning), each through an hour of 10-second windows, every detection on and a 100k-entry feed.
//
//   vigil_bench_detect_state [--devices N] [--windows W]
//
// Prints BENCH detect_state_bytes_per_device (mean of the serialised states at the end),
// detect_state_bytes_max and detect_reports_per_second (process_report on one core).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "vigil/hub/detect/engine.hpp"

using namespace vigil::hub;
using namespace vigil::hub::detect;

namespace {

std::string v4(uint32_t value) {
    return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 255) + "." +
           std::to_string((value >> 8) & 255) + "." + std::to_string(value & 255);
}

ThreatIntel big_feed(std::mt19937& random) {
    Feed feed;
    feed.name = "bench.txt";
    for (int i = 0; i < 100000; ++i) {
        Indicator indicator;
        indicator.block =
            Cidr{IpAddress{Family::V4, static_cast<uint32_t>(random()) | 0x01000000u}, 32};
        indicator.category = "malicious";
        indicator.source = "bench";
        feed.indicators.push_back(indicator);
    }
    return ThreatIntel({feed});
}

Flow flow_of(const std::string& remote, Protocol protocol, uint16_t local_port,
             uint16_t remote_port, bool inbound, const char* handshake) {
    Flow flow;
    flow.local = "10.0.0.2";
    flow.remote = remote;
    flow.protocol = protocol;
    flow.local_port = local_port;
    flow.remote_port = remote_port;
    flow.bytes_in = 1200;
    flow.bytes_out = 800;
    flow.packets_in = 8;
    flow.packets_out = 7;
    flow.remote_opened = inbound;
    flow.handshake = protocol == Protocol::Tcp ? handshake : "";
    return flow;
}

Report window_of(int device, int window, std::mt19937& random) {
    Report report;
    report.device_id = "bench-" + std::to_string(device);
    report.message_key = "b:" + std::to_string(window);
    report.device_time_ms = 1'800'000'000'000 + window * 10'000LL;
    report.received_ms = report.device_time_ms + 200;
    report.window_duration_ms = 10'000;
    report.has_network = true;
    report.flows.push_back(flow_of("10.0.0.1", Protocol::Tcp, 40000, 8883, false, "completed"));
    if (window % 6 == 0) {
        report.flows.push_back(flow_of("10.0.0.53", Protocol::Udp, 50000, 53, false, ""));
    }
    if (window % 60 == 0) {
        report.flows.push_back(flow_of("10.0.0.123", Protocol::Udp, 123, 123, false, ""));
    }
    for (int i = 0; i < 4; ++i) {  // a cloud API behind a few addresses
        report.flows.push_back(flow_of(v4(0x34000000u + static_cast<uint32_t>(random() % 8)),
                                       Protocol::Tcp, 41000, 443, false, "completed"));
    }
    for (int i = 0; i < 3; ++i) {  // clients of the device's own web server
        report.flows.push_back(flow_of(v4(0x0A010000u + static_cast<uint32_t>(random() % 64)),
                                       Protocol::Tcp, 80, 50000, true, "completed"));
    }
    if (device % 100 == 0) {  // being scanned
        for (int i = 0; i < 10; ++i) {
            report.flows.push_back(
                flow_of(v4(0xC6336400u + static_cast<uint32_t>(device % 200)), Protocol::Tcp,
                        static_cast<uint16_t>(random() % 1024 + 1), 40000, true, "refused"));
        }
    }
    if (device % 250 == 1) {  // scanning others
        for (int i = 0; i < 10; ++i) {
            report.flows.push_back(flow_of(v4(static_cast<uint32_t>(random())), Protocol::Tcp,
                                           42000, 23, false, "unanswered"));
        }
    }
    if (window % 30 == 0) {
        report.listening_ports.emplace();
        report.listening_ports->push_back({Protocol::Tcp, 80, "", ""});
        report.listening_ports->push_back({Protocol::Tcp, 22, "", ""});
    }
    return report;
}

}  // namespace

int main(int argc, char** argv) {
    int devices = 10000;
    int windows = 360;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--devices") == 0) {
            devices = std::atoi(argv[i + 1]);
        } else if (std::strcmp(argv[i], "--windows") == 0) {
            windows = std::atoi(argv[i + 1]);
        }
    }
    std::mt19937 random(7);  // 32-bit results: addresses are taken from it whole
    const ThreatIntel intel = big_feed(random);
    DeviceSettings settings;
    CustomRule rule;
    rule.name = "upload-cap";
    rule.metric = RuleMetric::BytesOut;
    rule.above = 50'000'000;
    settings.rules.push_back(rule);

    size_t total_bytes = 0, max_bytes = 0, reports = 0, alerts = 0;
    double seconds = 0;
    for (int device = 0; device < devices; ++device) {
        DeviceState state;
        std::vector<Report> lives;
        lives.reserve(static_cast<size_t>(windows));
        for (int window = 0; window < windows; ++window) {
            lives.push_back(window_of(device, window, random));
        }
        const auto start = std::chrono::steady_clock::now();
        for (const Report& report : lives) {
            DetectionEffects effects;
            process_report(settings, intel, state, report, 0, effects);
            alerts += effects.alerts.size();
        }
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        reports += lives.size();
        const size_t bytes = encode_state(state).size();
        total_bytes += bytes;
        max_bytes = std::max(max_bytes, bytes);
    }
    std::printf("%d devices x %d windows: %zu reports, %zu alerts raised, %.2f s in detection\n",
                devices, windows, reports, alerts, seconds);
    std::printf("BENCH detect_state_bytes_per_device %.0f bytes\n",
                static_cast<double>(total_bytes) / devices);
    std::printf("BENCH detect_state_bytes_max %zu bytes\n", max_bytes);
    std::printf("BENCH detect_reports_per_second %.0f reports/s\n",
                static_cast<double>(reports) / seconds);
    return 0;
}
