// A NetX Duo network driver over a Linux TAP device: Ethernet frames in and out of an interface
// the kernel sees as a link, so the device lives in a network namespace like any host.
//
// Receiving runs on a plain pthread that blocks in read() and delivers each frame the way a
// receive interrupt does (_tx_thread_context_save / _restore around NX_NO_WAIT calls only).
// Sending copies the frame and write()s it from the sending ThreadX thread. A TAP opened
// without IFF_VNET_HDR has no checksum offload, and one that is persistent and owned by the
// running user needs no capability to open.
#pragma once

#include "nx_api.h"

namespace vigil::netxduo_device {

struct TapSettings {
    const char* interface_name = nullptr;
    ULONG mac_msw = 0;  ///< top two bytes of the MAC
    ULONG mac_lsw = 0;  ///< its other four bytes
};

/// Opens the TAP and waits (up to 5 s) until the kernel runs it, so the host answers the
/// device's first frames; call once before nx_ip_create() with tap_driver. False when the TAP
/// cannot be opened (a missing TAP is an error, not a silent dead link).
bool tap_open(const TapSettings& settings);

/// The driver entry for nx_ip_create(); starts reading frames at NX_LINK_INITIALIZE.
extern "C" VOID tap_driver(NX_IP_DRIVER* request);

struct TapCounts {
    ULONG frames_in = 0;
    ULONG frames_out = 0;
    ULONG dropped_in = 0;   ///< no packet free, or a frame for another MAC
    ULONG read_failed = 0;  ///< the TAP went away
};

TapCounts tap_counts();

}  // namespace vigil::netxduo_device
