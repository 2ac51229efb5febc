// The lwIP port's hooks on a netif that is not attached to any driver: frames pushed through
// netif->input and netif->linkoutput by hand, the way tapif and etharp call them. The agent runs
// through its C ABI on the port, and what it publishes is decoded to check what it saw.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "vigil/ports/lwip.hpp"

#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "packets.hpp"
#include "vigil/protocol/message.h"

namespace {

using vigil::ports::lwip::LwipPort;

constexpr char kDevice[] = "198.18.9.2";
constexpr char kPeer[] = "198.18.9.1";

int g_inputs = 0;
int g_outputs = 0;

err_t original_input(struct pbuf* frame, struct netif*) {
    ++g_inputs;
    pbuf_free(frame);  // as tcpip_input would, eventually
    return ERR_OK;
}

err_t original_linkoutput(struct netif*, struct pbuf*) {
    ++g_outputs;
    return ERR_OK;
}

// Sized once and filled in place: GCC 12's -Warray-bounds misfires on growing a small vector.
std::vector<uint8_t> ethernet(const std::vector<uint8_t>& ip, uint16_t type, bool vlan) {
    static const uint8_t kMacs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
    static const uint8_t kTag[4] = {0x81, 0x00, 0x00, 0x07};
    const size_t header = vlan ? 18 : 14;
    std::vector<uint8_t> frame(header + ip.size());
    std::memcpy(frame.data(), kMacs, sizeof kMacs);
    if (vlan) {
        std::memcpy(frame.data() + 12, kTag, sizeof kTag);
    }
    frame[header - 2] = static_cast<uint8_t>(type >> 8);
    frame[header - 1] = static_cast<uint8_t>(type & 0xFF);
    std::memcpy(frame.data() + header, ip.data(), ip.size());
    return frame;
}

struct pbuf* single(const std::vector<uint8_t>& bytes) {
    struct pbuf* p = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(bytes.size()), PBUF_RAM);
    pbuf_take(p, bytes.data(), static_cast<u16_t>(bytes.size()));
    return p;
}

// The Ethernet header in one pbuf and the IP packet in the next, as a stack that prepends a
// header buffer sends it.
struct pbuf* chained(const std::vector<uint8_t>& bytes, size_t split) {
    struct pbuf* head = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(split), PBUF_RAM);
    struct pbuf* tail = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(bytes.size() - split), PBUF_RAM);
    std::memcpy(head->payload, bytes.data(), split);
    std::memcpy(tail->payload, bytes.data() + split, bytes.size() - split);
    pbuf_cat(head, tail);
    return head;
}

struct Published {
    std::vector<std::vector<uint8_t>> messages;
    static bool connected(void*) { return true; }
    static int32_t send(void* context, const char*, const char*, const uint8_t* payload,
                        size_t length) {
        static_cast<Published*>(context)->messages.emplace_back(payload, payload + length);
        return 1;
    }
};

class LwipPortTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        // The port reads the netif list under the core lock, which tcpip_init creates.
        static std::atomic<bool> ready{false};
        tcpip_init([](void*) { ready = true; }, nullptr);
        while (!ready) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
};

TEST_F(LwipPortTest, FindsTheIpHeaderBehindEthernetAndOneVlanTag) {
    const std::vector<uint8_t> ip = vigil::test::ipv4_packet(
        kPeer, kDevice, vigil::test::tcp_segment(40000, 7, vigil::test::tcp::kSyn));
    EXPECT_EQ(vigil::ports::lwip::ip_offset(ethernet(ip, 0x0800, false).data(), 60), 14);
    EXPECT_EQ(vigil::ports::lwip::ip_offset(ethernet(ip, 0x86DD, true).data(), 60), 18);
    EXPECT_EQ(vigil::ports::lwip::ip_offset(ethernet(ip, 0x0806, false).data(), 60), -1);
    EXPECT_EQ(vigil::ports::lwip::ip_offset(ethernet(ip, 0x0800, true).data(), 17), -1);
    EXPECT_EQ(vigil::ports::lwip::ip_offset(ethernet(ip, 0x0800, false).data(), 13), -1);
}

TEST_F(LwipPortTest, HooksSeeBothDirectionsAndDetachRestoresThePointers) {
    static LwipPort port;
    static struct netif netif;
    netif.input = original_input;
    netif.linkoutput = original_linkoutput;
    netif.num = 0;
    ASSERT_TRUE(port.watch(&netif));
    EXPECT_EQ(netif.input, original_input) << "nothing is hooked before the agent attaches";

    static Published published;
    vigil_transport transport{&published, Published::connected, Published::send};
    vigil_options options{};
    ASSERT_EQ(vigil_agent_init(&port.port(), &transport, "lwip-port-test", &options), VIGIL_OK);
    EXPECT_NE(netif.input, original_input);
    EXPECT_NE(netif.linkoutput, original_linkoutput);

    const std::vector<uint8_t> syn = vigil::test::ipv4_packet(
        kPeer, kDevice, vigil::test::tcp_segment(40000, 7, vigil::test::tcp::kSyn));
    const std::vector<uint8_t> synack = vigil::test::ipv4_packet(
        kDevice, kPeer,
        vigil::test::tcp_segment(7, 40000, vigil::test::tcp::kSyn | vigil::test::tcp::kAck));
    const std::vector<uint8_t> data = vigil::test::ipv4_packet(
        kPeer, kDevice, vigil::test::tcp_segment(40000, 7, vigil::test::tcp::kAck, 1400));
    const std::vector<uint8_t> arp(28, 0);

    EXPECT_EQ(netif.input(single(ethernet(syn, 0x0800, false)), &netif), ERR_OK);
    struct pbuf* reply = chained(ethernet(synack, 0x0800, false), 14);
    EXPECT_EQ(netif.linkoutput(&netif, reply), ERR_OK);
    pbuf_free(reply);
    EXPECT_EQ(netif.input(single(ethernet(data, 0x0800, true)), &netif), ERR_OK);
    EXPECT_EQ(netif.input(single(ethernet(arp, 0x0806, false)), &netif), ERR_OK);
    EXPECT_EQ(g_inputs, 3);
    EXPECT_EQ(g_outputs, 1);

    const vigil::ports::lwip::FrameCounts counts = port.counts();
    EXPECT_EQ(counts.frames_in, 3u);
    EXPECT_EQ(counts.ip_in, 2u);
    EXPECT_EQ(counts.frames_out, 1u);
    EXPECT_EQ(counts.ip_out, 1u);

    ASSERT_EQ(vigil_agent_tick(), VIGIL_OK);
    bool found = false;
    for (const auto& bytes : published.messages) {
        vigil::protocol::Message message;
        ASSERT_TRUE(vigil::protocol::decode_message(bytes.data(), bytes.size(), message).ok());
        if (message.system) {
            EXPECT_EQ(message.system->stack_name, "lwIP");
        }
        if (!message.network) {
            continue;
        }
        for (const auto& flow : message.network->flows) {
            if (flow.fields.local_port == 7 && flow.fields.remote_port == 40000) {
                found = true;
                EXPECT_EQ(flow.fields.packets_in, 2u);
                EXPECT_EQ(flow.fields.packets_out, 1u);
                EXPECT_EQ(flow.fields.bytes_in, syn.size() + data.size());
                EXPECT_EQ(flow.fields.bytes_out, synack.size());
                EXPECT_TRUE(flow.remote_opened());
            }
        }
    }
    EXPECT_TRUE(found) << "the agent published the flow the hooks saw";

    ASSERT_EQ(vigil_agent_disable(), VIGIL_OK);
    EXPECT_EQ(netif.input, original_input);
    EXPECT_EQ(netif.linkoutput, original_linkoutput);
    ASSERT_EQ(vigil_agent_enable(), VIGIL_OK);
    EXPECT_NE(netif.input, original_input);
    ASSERT_EQ(vigil_agent_disable(), VIGIL_OK);
    EXPECT_EQ(netif.input, original_input);
}

}  // namespace
