// libFuzzer target for the hub's message decoder. For every input:
//  1. decode_message never reads outside the input (ASan) and, on error, reports an offset
//     inside it and a detail;
//  2. what decodes encodes again, and that encoding decodes to an equal message and is a fixed
//     point: encoding the second decode gives the same bytes (the encoder is deterministic);
//  3. the JSON form of what decodes is valid JSON.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "vigil/protocol/message.h"

namespace {

[[noreturn]] void broken(const char* invariant) {
    std::fprintf(stderr, "decode_message_fuzz: %s\n", invariant);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace vigil::protocol;
    Message message;
    const DecodeResult result = decode_message(data, size, message);
    if (!result.ok()) {
        if (result.offset > size) {
            broken("error offset past the end of the input");
        }
        if (result.detail.empty()) {
            broken("error without a detail");
        }
        return 0;
    }
    const std::vector<uint8_t> bytes = encode_message(message);
    Message again;
    const DecodeResult second = decode_message(bytes.data(), bytes.size(), again);
    if (!second.ok()) {
        std::fprintf(stderr, "re-encoding rejected: %s: %s\n", to_string(second.error),
                     second.detail.c_str());
        broken("a decoded message does not encode to a valid one");
    }
    if (!(again == message)) {
        broken("decode(encode(decode(input))) differs from decode(input)");
    }
    if (encode_message(again) != bytes) {
        broken("encoding is not deterministic");
    }
    if (!nlohmann::json::accept(to_json(message))) {
        broken("to_json produced invalid JSON");
    }
    return 0;
}
