#include "profiles.hpp"

namespace vigil::sim {
namespace {

// Peers: the site's own servers in 10.0.0.0/24, cloud services in the documentation ranges
// (203.0.113.0/24, 2001:db8::/32), so no simulated packet names a real host.
constexpr char kSiteDns[] = "10.0.0.1";
constexpr char kSiteNtp[] = "10.0.0.2";

TrafficPattern dns(uint32_t period_ms) {
    TrafficPattern p;
    p.peer = kSiteDns;
    p.transport = Transport::Udp;
    p.peer_port = 53;
    p.period_ms = period_ms;
    p.request_bytes = 40;
    p.response_bytes = 120;
    p.persistent = false;
    return p;
}

TrafficPattern ntp() {
    TrafficPattern p;
    p.peer = kSiteNtp;
    p.transport = Transport::Udp;
    p.device_port = 123;
    p.peer_port = 123;
    p.period_ms = 64000;
    p.request_bytes = 48;
    p.response_bytes = 48;
    return p;
}

TrafficPattern tcp(const std::string& peer, uint16_t peer_port, uint32_t period_ms,
                   uint16_t request_packets, uint16_t request_bytes, uint16_t response_packets,
                   uint16_t response_bytes) {
    TrafficPattern p;
    p.peer = peer;
    p.peer_port = peer_port;
    p.period_ms = period_ms;
    p.request_packets = request_packets;
    p.request_bytes = request_bytes;
    p.response_packets = response_packets;
    p.response_bytes = response_bytes;
    return p;
}

/// A peer that opens connections to the device's port.
TrafficPattern served(const std::string& peer, uint16_t device_port, uint32_t period_ms,
                      uint16_t request_packets, uint16_t request_bytes, uint16_t response_packets,
                      uint16_t response_bytes) {
    TrafficPattern p =
        tcp(peer, 0, period_ms, request_packets, request_bytes, response_packets, response_bytes);
    p.device_port = device_port;
    p.device_opens = false;
    return p;
}

Profile sensor() {
    Profile p;
    p.name = "sensor";
    // Telemetry over MQTT with TLS to the cloud broker, on one long-lived connection.
    p.patterns.push_back(tcp("203.0.113.10", 8883, 10000, 1, 180, 1, 0));
    p.patterns.push_back(ntp());
    p.patterns.push_back(dns(300000));
    p.listening = {{Transport::Udp, 5684}};  // CoAP over DTLS, for local commissioning
    p.system = {"FreeRTOS", "10.6.2", "FreeRTOS-Plus-TCP", "4.3.3", "sensor-2.4.1", "STM32L475"};
    return p;
}

Profile camera() {
    Profile p;
    p.name = "camera";
    p.ipv6 = true;
    // The site's video recorder pulls the RTSP stream: about 450 kbit/s out of the camera.
    p.patterns.push_back(served("10.0.0.20", 554, 1000, 2, 0, 40, 1400));
    // Snapshots uploaded to the vendor's cloud over IPv6, a connection each.
    TrafficPattern upload = tcp("2001:db8:100::20", 443, 60000, 20, 1400, 5, 100);
    upload.persistent = false;
    p.patterns.push_back(upload);
    p.patterns.push_back(ntp());
    p.patterns.push_back(dns(120000));
    p.listening = {{Transport::Tcp, 443}, {Transport::Tcp, 554}};
    p.system = {"Zephyr", "4.1.0", "Zephyr IP", "4.1.0", "cam-5.0.3", "nRF5340"};
    return p;
}

Profile gateway() {
    Profile p;
    p.name = "gateway";
    p.ipv6 = true;
    // Downstream devices publish to the gateway's own MQTT broker (TLS).
    for (int i = 0; i < 8; ++i) {
        p.patterns.push_back(served("10.0.1." + std::to_string(11 + i), 8883, 10000, 1, 200, 1, 0));
    }
    // Upstream: batches to the cloud over IPv4 and IPv6.
    p.patterns.push_back(tcp("203.0.113.30", 443, 10000, 2, 800, 2, 100));
    TrafficPattern v6 = tcp("2001:db8:100::30", 443, 30000, 4, 1200, 2, 100);
    v6.persistent = false;
    p.patterns.push_back(v6);
    p.patterns.push_back(ntp());
    p.patterns.push_back(dns(60000));
    p.listening = {{Transport::Tcp, 22}, {Transport::Tcp, 8883}};
    p.system = {"Linux", "6.6.63", "Linux", "6.6.63", "gw-3.2.0", "i.MX8M Mini"};
    return p;
}

Profile plc() {
    Profile p;
    p.name = "plc";
    // The SCADA server polls Modbus/TCP every second; events go to the site's syslog.
    p.patterns.push_back(served("10.0.2.2", 502, 1000, 1, 12, 1, 25));
    TrafficPattern syslog;
    syslog.peer = "10.0.2.3";
    syslog.transport = Transport::Udp;
    syslog.device_port = 514;
    syslog.peer_port = 514;
    syslog.period_ms = 60000;
    syslog.request_bytes = 120;
    syslog.response_packets = 0;
    p.patterns.push_back(syslog);
    p.patterns.push_back(ntp());
    p.listening = {{Transport::Tcp, 502}, {Transport::Tcp, 44818}};
    p.system = {"Eclipse ThreadX", "6.4.4", "NetX Duo", "6.4.4", "plc-1.9.0", "STM32H743"};
    return p;
}

}  // namespace

const std::vector<Profile>& profiles() {
    static const std::vector<Profile> all = {sensor(), camera(), gateway(), plc()};
    return all;
}

const Profile* find_profile(const std::string& name) {
    for (const Profile& p : profiles()) {
        if (p.name == name) {
            return &p;
        }
    }
    return nullptr;
}

}  // namespace vigil::sim
