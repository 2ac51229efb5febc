// A NetX Duo application's whole use of Vigil: enable, a packet through the filter, disable.
// Only here so the linker keeps what that reaches.
#include "vigil/ports/netxduo.h"

namespace {

bool connected(void*) {
    return true;
}

int32_t send(void*, const char*, const char*, const uint8_t*, size_t) {
    return 1;
}

}  // namespace

extern "C" NX_IP footprint_ip;
extern "C" NX_PACKET footprint_packet;

extern "C" int footprint_main() {
    VIGIL_NETXDUO_SETTINGS settings{};
    settings.device_id = "device-42";
    settings.transport = vigil_transport{nullptr, connected, send};
    settings.board = "board";
    UINT status = vigil_netxduo_enable(&settings);
    status |= footprint_ip.nx_ip_packet_filter_extended(&footprint_ip, &footprint_packet,
                                                        NX_IP_PACKET_IN);
    VIGIL_NETXDUO_COUNTS counts;
    vigil_netxduo_counts(&counts);
    status |= vigil_netxduo_disable();
    return static_cast<int>(status + counts.ticks);
}
