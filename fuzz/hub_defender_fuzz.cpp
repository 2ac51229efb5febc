// libFuzzer target for the hub's legacy Defender decoder (FlatBuffers), through decode() on its
// topic. For every input: no crash or out-of-bounds read (ASan), and the invariants of
// hub_fuzz_checks.hpp for a message a device sends on its own topic.
#include <cstddef>
#include <cstdint>

#include "hub_fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    vigil::hub::fuzz::check_device_message(
        "hub_defender_fuzz",
        "devices/fuzz/messages/events/"
        "mti=2.3-1-0-0&%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1",
        vigil::hub::FileFormat::LegacyDefender, data, size);
    return 0;
}
