// libFuzzer target for the hub's Vigil decoder, through decode() on a Vigil topic. For every
// input: no crash or out-of-bounds read (ASan), and the invariants of hub_fuzz_checks.hpp for a
// message a device sends on its own topic.
#include <cstddef>
#include <cstdint>

#include "hub_fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    vigil::hub::fuzz::check_device_message("hub_vigil_fuzz",
                                           "devices/fuzz/messages/events/mti=vigil.1",
                                           vigil::hub::FileFormat::Vigil, data, size);
    return 0;
}
