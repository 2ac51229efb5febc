// Reports as a device's agent would send them, for the detection tests.
#pragma once

#include <cstdint>
#include <string>

#include "vigil/hub/report.hpp"

namespace vigil::hub::test {

constexpr const char* kDevice = "dev-1";
constexpr const char* kDeviceAddress = "198.51.100.2";
constexpr int64_t kStartMs = 1'800'000'000'000;  // device time of the first window's end
constexpr uint32_t kWindowMs = 10'000;

class ReportBuilder {
  public:
    /// The report of window `index` (0, 1, ...), ten seconds each.
    explicit ReportBuilder(int index, const std::string& device = kDevice) {
        report_.device_id = device;
        report_.message_key = "boot-a:" + std::to_string(index);
        report_.device_time_ms = kStartMs + index * static_cast<int64_t>(kWindowMs);
        report_.received_ms = report_.device_time_ms + 500;
        report_.window_duration_ms = kWindowMs;
        report_.has_network = true;
    }

    /// A TCP flow the remote opened to `local_port`.
    ReportBuilder& inbound(const std::string& remote, uint16_t local_port,
                           const std::string& handshake = "refused", uint64_t packets_in = 1,
                           uint64_t packets_out = 1) {
        Flow& flow = add(remote, Protocol::Tcp, local_port, 40000, packets_in, packets_out);
        flow.remote_opened = true;
        flow.handshake = handshake;
        return *this;
    }
    /// A flow the device opened to `remote`:`remote_port`.
    ReportBuilder& outbound(const std::string& remote, uint16_t remote_port,
                            Protocol protocol = Protocol::Tcp,
                            const std::string& handshake = "completed", uint64_t bytes_out = 100,
                            uint64_t bytes_in = 100) {
        Flow& flow = add(remote, protocol, 50000, remote_port, 2, 2);
        flow.remote_opened = false;
        flow.handshake = protocol == Protocol::Tcp ? handshake : "";
        flow.bytes_out = bytes_out;
        flow.bytes_in = bytes_in;
        return *this;
    }
    /// ICMP echo requests the device sent to `remote`, unanswered.
    ReportBuilder& ping(const std::string& remote) {
        Flow& flow = add(remote, Protocol::Icmp, 8, 0, 0, 1);
        flow.bytes_out = 64;
        flow.bytes_in = 0;
        flow.remote_opened = false;
        return *this;
    }
    ReportBuilder& packets(const std::string& remote, Protocol protocol, uint64_t in,
                           uint64_t out) {
        Flow& flow = add(remote, protocol, 80, 40000, in, out);
        flow.remote_opened = true;
        return *this;
    }
    ReportBuilder& bytes_out(const std::string& remote, uint64_t bytes) {
        return outbound(remote, 443, Protocol::Tcp, "completed", bytes, 100);
    }
    ReportBuilder& listening(std::initializer_list<uint16_t> tcp_ports) {
        report_.listening_ports.emplace();
        for (uint16_t port : tcp_ports) {
            report_.listening_ports->push_back({Protocol::Tcp, port, "", ""});
        }
        return *this;
    }
    ReportBuilder& status(uint64_t messages_dropped, uint32_t backlog = 0) {
        report_.status.emplace();
        report_.status->state = "active";
        report_.status->messages_dropped = messages_dropped;
        report_.status->backlog_messages = backlog;
        return *this;
    }
    ReportBuilder& boot(const std::string& boot_id) {
        report_.message_key = boot_id + report_.message_key.substr(report_.message_key.find(':'));
        return *this;
    }
    ReportBuilder& received(int64_t received_ms) {
        report_.received_ms = received_ms;
        return *this;
    }
    Report build() const { return report_; }
    operator Report() const { return report_; }

  private:
    Flow& add(const std::string& remote, Protocol protocol, uint16_t local_port,
              uint16_t remote_port, uint64_t packets_in, uint64_t packets_out) {
        Flow& flow = report_.flows.emplace_back();
        flow.local = kDeviceAddress;
        flow.remote = remote;
        flow.protocol = protocol;
        flow.local_port = local_port;
        flow.remote_port = remote_port;
        flow.packets_in = packets_in;
        flow.packets_out = packets_out;
        flow.bytes_in = packets_in * 60;
        flow.bytes_out = packets_out * 60;
        return flow;
    }

    Report report_;
};

}  // namespace vigil::hub::test
