// Capture (libpcap files) and the link-layer parser, on capture files written by the test.
#include <pcap/dlt.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "packets.hpp"
#include "vigil/ports/capture.hpp"
#include "vigil/ports/link_layer.hpp"

namespace {

using namespace vigil::ports::posix;
namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

struct Record {
    uint64_t time_us;
    Bytes frame;
    uint32_t original;
};

void put32(Bytes& out, uint32_t value) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<uint8_t>(value >> (8 * i)));  // little-endian writer
    }
}

void put16(Bytes& out, uint16_t value) {
    out.push_back(static_cast<uint8_t>(value));
    out.push_back(static_cast<uint8_t>(value >> 8));
}

Bytes classic_pcap(uint32_t linktype, const std::vector<Record>& records) {
    Bytes out;
    put32(out, 0xA1B2C3D4);
    put16(out, 2);
    put16(out, 4);
    put32(out, 0);
    put32(out, 0);
    put32(out, 65535);
    put32(out, linktype);
    for (const Record& r : records) {
        put32(out, static_cast<uint32_t>(r.time_us / 1000000));
        put32(out, static_cast<uint32_t>(r.time_us % 1000000));
        put32(out, static_cast<uint32_t>(r.frame.size()));
        put32(out, r.original);
        out.insert(out.end(), r.frame.begin(), r.frame.end());
    }
    return out;
}

Bytes pcapng(uint16_t linktype, const std::vector<Record>& records) {
    Bytes out;
    auto block = [&](uint32_t type, const Bytes& body) {
        const uint32_t length = static_cast<uint32_t>(12 + (body.size() + 3) / 4 * 4);
        put32(out, type);
        put32(out, length);
        out.insert(out.end(), body.begin(), body.end());
        out.resize(out.size() + (4 - body.size() % 4) % 4, 0);
        put32(out, length);
    };
    Bytes section;
    put32(section, 0x1A2B3C4D);
    put16(section, 1);
    put16(section, 0);
    put32(section, 0xFFFFFFFF);
    put32(section, 0xFFFFFFFF);
    block(0x0A0D0D0A, section);
    Bytes interface;
    put16(interface, linktype);
    put16(interface, 0);
    put32(interface, 65535);
    block(1, interface);
    for (const Record& r : records) {
        Bytes packet;
        put32(packet, 0);
        put32(packet, static_cast<uint32_t>(r.time_us >> 32));
        put32(packet, static_cast<uint32_t>(r.time_us));
        put32(packet, static_cast<uint32_t>(r.frame.size()));
        put32(packet, r.original);
        packet.insert(packet.end(), r.frame.begin(), r.frame.end());
        block(6, packet);
    }
    return out;
}

Bytes ethernet(const Bytes& ip, uint16_t ethertype = 0x0800, bool vlan = false) {
    const size_t header = vlan ? 18 : 14;
    Bytes out(header, 0);
    out[0] = out[6] = 0x02;  // locally administered MACs 02:..:01 and 02:..:02
    out[5] = 1;
    out[11] = 2;
    if (vlan) {
        out[12] = 0x81;
        out[15] = 100;
    }
    out[header - 2] = static_cast<uint8_t>(ethertype >> 8);
    out[header - 1] = static_cast<uint8_t>(ethertype);
    out.insert(out.end(), ip.begin(), ip.end());
    return out;
}

class TempFile {
  public:
    explicit TempFile(const Bytes& content) {
        path_ = (fs::temp_directory_path() /
                 ("vigil-capture-" + std::to_string(::getpid()) + "-" + std::to_string(next_++)))
                    .string();
        std::ofstream(path_, std::ios::binary)
            .write(reinterpret_cast<const char*>(content.data()),
                   static_cast<std::streamsize>(content.size()));
    }
    ~TempFile() { std::remove(path_.c_str()); }
    const std::string& path() const { return path_; }

  private:
    static inline int next_ = 0;
    std::string path_;
};

std::vector<Record> sample_records() {
    const Bytes udp4 = vigil::test::ipv4_packet("203.0.113.1", "203.0.113.2",
                                                vigil::test::udp_datagram(5000, 53, 20));
    const Bytes tcp6 = vigil::test::ipv6_packet("2001:db8:9::1", "2001:db8:9::2",
                                                vigil::test::tcp_segment(40000, 443, 0x02));
    return {
        {1'700'000'000'123'456, ethernet(udp4), static_cast<uint32_t>(udp4.size() + 14)},
        {1'700'000'000'223'999, ethernet(tcp6, 0x86DD), static_cast<uint32_t>(tcp6.size() + 14)},
        {1'700'000'001'000'000, ethernet(udp4, 0x0800, true), 1500}};
}

void expect_sample(Capture& capture) {
    const auto records = sample_records();
    ASSERT_EQ(capture.link_type(), DLT_EN10MB);
    Capture::Frame frame;
    for (const Record& r : records) {
        ASSERT_EQ(capture.next(frame), Capture::Next::Frame) << capture.error();
        EXPECT_EQ(frame.time_ms, r.time_us / 1000);
        EXPECT_EQ(frame.captured, r.frame.size());
        EXPECT_EQ(frame.original, r.original);
        ASSERT_EQ(Bytes(frame.data, frame.data + frame.captured), r.frame);
        IpSlice ip;
        ASSERT_TRUE(ip_payload(capture.link_type(), frame.data, frame.captured, ip));
        EXPECT_EQ(ip.data[0] >> 4, r.frame[12] == 0x86 ? 6 : 4);
    }
    EXPECT_EQ(capture.next(frame), Capture::Next::End);
}

TEST(Capture, ReadsPcap) {
    TempFile file(classic_pcap(1, sample_records()));
    std::string error;
    auto capture = Capture::open_file(file.path(), error);
    ASSERT_TRUE(capture) << error;
    expect_sample(*capture);
}

TEST(Capture, ReadsPcapng) {
    TempFile file(pcapng(1, sample_records()));
    std::string error;
    auto capture = Capture::open_file(file.path(), error);
    ASSERT_TRUE(capture) << error;
    expect_sample(*capture);
}

TEST(Capture, BadFilesGiveClearErrors) {
    const Bytes good = classic_pcap(1, sample_records());
    const Bytes good_ng = pcapng(1, sample_records());
    struct Case {
        const char* name;
        Bytes content;
        const char* reason;
    };
    const std::vector<Case> cases = {
        {"empty", {}, "truncated"},
        {"text", Bytes(200, 'x'), "unknown file format"},
        {"cut in the file header", Bytes(good.begin(), good.begin() + 10), "truncated"},
        {"cut in the pcapng section", Bytes(good_ng.begin(), good_ng.begin() + 20), "truncated"},
    };
    for (const Case& c : cases) {
        TempFile file(c.content);
        std::string error;
        EXPECT_FALSE(Capture::open_file(file.path(), error)) << c.name;
        EXPECT_NE(error.find(c.reason), std::string::npos) << c.name << ": " << error;
    }
    std::string error;
    EXPECT_FALSE(Capture::open_file("/nonexistent/vigil.pcap", error));
    EXPECT_NE(error.find("No such file"), std::string::npos) << error;
}

TEST(Capture, TruncatedRecordIsAnErrorNotTheEnd) {
    for (const Bytes& whole : {classic_pcap(1, sample_records()), pcapng(1, sample_records())}) {
        for (size_t cut : {size_t{7}, size_t{30}}) {
            TempFile file(Bytes(whole.begin(), whole.end() - static_cast<long>(cut)));
            std::string error;
            auto capture = Capture::open_file(file.path(), error);
            ASSERT_TRUE(capture) << error;
            Capture::Frame frame;
            Capture::Next next;
            int frames = 0;
            while ((next = capture->next(frame)) == Capture::Next::Frame) {
                ++frames;
            }
            EXPECT_EQ(frames, 2) << "the whole records before the cut";
            EXPECT_EQ(next, Capture::Next::Error);
            EXPECT_NE(capture->error().find("truncated"), std::string::npos) << capture->error();
        }
    }
}

TEST(Capture, LiveOnMissingInterfaceFails) {
    std::string error;
    EXPECT_FALSE(Capture::open_live("vigil-none0", 100, error));
    EXPECT_FALSE(error.empty());
}

TEST(LinkLayer, FindsIpOrRefuses) {
    const Bytes udp4 = vigil::test::ipv4_packet("203.0.113.1", "203.0.113.2",
                                                vigil::test::udp_datagram(5000, 53, 4));
    IpSlice ip;
    const Bytes tagged = ethernet(udp4, 0x0800, true);
    ASSERT_TRUE(ip_payload(DLT_EN10MB, tagged.data(), tagged.size(), ip));
    EXPECT_EQ(ip.data, tagged.data() + 18);
    EXPECT_EQ(ip.length, udp4.size());
    const Bytes arp = ethernet(Bytes(28, 0), 0x0806);
    EXPECT_FALSE(ip_payload(DLT_EN10MB, arp.data(), arp.size(), ip));
    for (size_t cut = 0; cut <= 18; ++cut) {
        EXPECT_FALSE(ip_payload(DLT_EN10MB, tagged.data(), cut, ip)) << cut;
    }
    EXPECT_TRUE(ip_payload(DLT_RAW, udp4.data(), udp4.size(), ip));
    EXPECT_FALSE(link_type_supported(105));
    EXPECT_STREQ(pcap_link_type_name(105), "IEEE802_11");
    uint8_t mac[6];
    ASSERT_TRUE(source_mac(DLT_EN10MB, tagged.data(), tagged.size(), mac));
    EXPECT_EQ(mac[5], 2);
}

}  // namespace
