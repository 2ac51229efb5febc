// The legacy Defender micro-agent's FlatBuffers message (defender.fbs) to a Report. Every buffer
// goes through the FlatBuffers Verifier before a single field is read: the bytes come from the
// network, and the generated accessors trust their offsets.
#include <flatbuffers/flatbuffers.h>

#include <string>

#include "defender_generated.h"
#include "formats.hpp"
#include "vigil/protocol/message.h"

namespace vigil::hub::detail {

namespace fb = AzureIoTSecurity;

namespace {

// A buffer shorter than the root offset plus the root table's vtable offset cannot hold a message.
constexpr size_t kMinimumBuffer = 2 * sizeof(flatbuffers::uoffset_t);

/// The octets of a word NetX keeps in network byte order: the little-endian bytes, in order.
void put_word(uint32_t word, uint8_t* out) {
    for (int i = 0; i < 4; ++i) {
        out[i] = static_cast<uint8_t>(word >> (8 * i));
    }
}

std::string ipv4_text(uint32_t word) {
    wire::Address address;
    address.family = 4;
    put_word(word, address.bytes);
    return protocol::to_string(address);
}

std::string ipv6_text(const flatbuffers::Array<uint32_t, 4>& words) {
    wire::Address address;
    address.family = 6;
    for (flatbuffers::uoffset_t i = 0; i < 4; ++i) {
        put_word(words.Get(i), address.bytes + 4 * i);
    }
    return protocol::to_string(address);
}

bool all_zero(const flatbuffers::Array<uint32_t, 4>& words) {
    for (flatbuffers::uoffset_t i = 0; i < 4; ++i) {
        if (words.Get(i) != 0) {
            return false;
        }
    }
    return true;
}

/// The protocol enum is an int8 on the wire; the Verifier does not check enum ranges.
bool protocol_of(fb::Protocol in, Protocol& out) {
    switch (in) {
        case fb::Protocol::TCP:
            out = Protocol::Tcp;
            return true;
        case fb::Protocol::UDP:
            out = Protocol::Udp;
            return true;
        case fb::Protocol::ICMP:
            out = Protocol::Icmp;
            return true;
    }
    return false;
}

std::string where(size_t event, const char* list, size_t item) {
    return "event " + std::to_string(event) + " " + list + "[" + std::to_string(item) + "]";
}

bool common_to_flow(const fb::NetworkActivityCommon& common, Flow& flow, DecodeOutcome& outcome,
                    const std::string& place) {
    if (!protocol_of(common.protocol(), flow.protocol)) {
        return fail(outcome, reason::kBadValue,
                    place + ": protocol " + std::to_string(static_cast<int>(common.protocol())));
    }
    flow.local_port = common.local_port();
    flow.remote_port = common.remote_port();
    flow.bytes_in = common.bytes_in();
    flow.bytes_out = common.bytes_out();
    return true;
}

bool map_network(const fb::NetworkActivity& network, size_t event, DecodeOutcome& outcome) {
    Report& report = outcome.report;
    report.has_network = true;
    if (const auto* v4 = network.ipv4_activity()) {
        for (flatbuffers::uoffset_t i = 0; i < v4->size(); ++i) {
            const fb::NetworkActivityV4* activity = v4->Get(i);
            Flow flow;
            flow.local = ipv4_text(activity->addresses()->local_address());
            flow.remote = ipv4_text(activity->addresses()->remote_address());
            if (!common_to_flow(*activity->common(), flow, outcome,
                                where(event, "ipv4_activity", i))) {
                return false;
            }
            report.flows.push_back(std::move(flow));
        }
    }
    if (const auto* v6 = network.ipv6_activity()) {
        for (flatbuffers::uoffset_t i = 0; i < v6->size(); ++i) {
            const fb::NetworkActivityV6* activity = v6->Get(i);
            Flow flow;
            flow.local = ipv6_text(*activity->addresses()->local_address());
            flow.remote = ipv6_text(*activity->addresses()->remote_address());
            if (!common_to_flow(*activity->common(), flow, outcome,
                                where(event, "ipv6_activity", i))) {
                return false;
            }
            report.flows.push_back(std::move(flow));
        }
    }
    return true;
}

std::string text_of(const flatbuffers::String* text) {
    return text == nullptr ? std::string() : text->str();
}

void map_system(const fb::SystemInformation& in, Report& report) {
    SystemInfo system;
    system.agent_version = report.agent_version;
    system.os_name = text_of(in.os_info());
    system.os_version = text_of(in.kernel_info());
    system.board = text_of(in.hw_info());
    report.system = std::move(system);
}

// One address family's listening ports; address_of gives an entry's address, "" for every one.
template <typename Entries, typename AddressOf>
bool map_port_family(const Entries* entries, const char* field, size_t event,
                     DecodeOutcome& outcome, AddressOf address_of) {
    if (entries == nullptr) {
        return true;
    }
    for (flatbuffers::uoffset_t i = 0; i < entries->size(); ++i) {
        const auto* entry = entries->Get(i);
        ListeningPort port;
        if (!protocol_of(entry->protocol(), port.protocol)) {
            return fail(outcome, reason::kBadValue, where(event, field, i) + ": protocol");
        }
        port.port = entry->local_port();
        port.address = address_of(*entry);
        outcome.report.listening_ports->push_back(std::move(port));
    }
    return true;
}

bool map_ports(const fb::ListeningPorts& in, size_t event, DecodeOutcome& outcome) {
    Report& report = outcome.report;
    if (!report.listening_ports) {
        report.listening_ports.emplace();
    }
    return map_port_family(in.ipv4_ports(), "ipv4_ports", event, outcome,
                           [](const fb::ListeningPortV4& entry) {
                               return entry.local_address() != 0 ? ipv4_text(entry.local_address())
                                                                 : std::string();
                           }) &&
           map_port_family(in.ipv6_ports(), "ipv6_ports", event, outcome,
                           [](const fb::ListeningPortV6& entry) {
                               const fb::IPv6Address* address = entry.local_address();
                               return address != nullptr && !all_zero(*address->value())
                                          ? ipv6_text(*address->value())
                                          : std::string();
                           });
}

std::string hex_of(const flatbuffers::Array<uint8_t, 16>& bytes) {
    static const char kHex[] = "0123456789abcdef";
    std::string text;
    for (flatbuffers::uoffset_t i = 0; i < bytes.size(); ++i) {
        text.push_back(kHex[bytes.Get(i) >> 4]);
        text.push_back(kHex[bytes.Get(i) & 0x0F]);
    }
    return text;
}

std::string version_text(uint32_t version) {
    return std::to_string(version >> 24) + "." + std::to_string((version >> 16) & 0xFF) + "." +
           std::to_string(version & 0xFFFF);
}

bool map_event(const fb::Event& event, size_t index, DecodeOutcome& outcome) {
    Report& report = outcome.report;
    // The Verifier accepts a union whose type is set and whose table is absent.
    if (event.payload_type() != fb::Payload::NONE && event.payload() == nullptr) {
        return fail(outcome, reason::kMissingField,
                    "event " + std::to_string(index) + ": payload type " +
                        std::to_string(static_cast<int>(event.payload_type())) +
                        " without its table");
    }
    switch (event.payload_type()) {
        case fb::Payload::NetworkActivity: {
            const uint64_t window_ms = uint64_t{event.collection_interval()} * 1000;
            report.window_duration_ms = static_cast<uint32_t>(std::max<uint64_t>(
                report.window_duration_ms, std::min<uint64_t>(window_ms, UINT32_MAX)));
            return map_network(*event.payload_as_NetworkActivity(), index, outcome);
        }
        case fb::Payload::SystemInformation:
            map_system(*event.payload_as_SystemInformation(), report);
            return true;
        case fb::Payload::ListeningPorts:
            return map_ports(*event.payload_as_ListeningPorts(), index, outcome);
        default:
            // Heartbeat carries nothing beyond the event header (its id and time make the
            // report's key and time); Baseline, Process, Log and types newer than the schema
            // are not read.
            return true;
    }
}

}  // namespace

bool decode_defender(const uint8_t* data, size_t size, DecodeOutcome& outcome) {
    if (size < kMinimumBuffer) {
        return fail(outcome, reason::kTruncated,
                    std::to_string(size) + " bytes: shorter than a FlatBuffers root");
    }
    if (flatbuffers::ReadScalar<flatbuffers::uoffset_t>(data) >
        size - sizeof(flatbuffers::uoffset_t)) {
        return fail(outcome, reason::kTruncated, "root table offset past the end of the buffer");
    }
    flatbuffers::Verifier verifier(data, size);
    if (!fb::VerifyMessageBuffer(verifier)) {
        return fail(outcome, reason::kMalformed,
                    "FlatBuffers verifier refused the buffer (bad offset, size or required field)");
    }
    const fb::Message* message = fb::GetMessage(data);
    const auto* events = message->events();
    if (events->size() == 0) {
        return fail(outcome, reason::kMissingField, "message has no events");
    }
    Report& report = outcome.report;
    report.agent_version = version_text(message->security_module_version());
    report.message_key = hex_of(*events->Get(0)->id()->value());
    report.device_time_ms = int64_t{events->Get(0)->time()} * 1000;
    for (flatbuffers::uoffset_t i = 0; i < events->size(); ++i) {
        if (!map_event(*events->Get(i), i, outcome)) {
            return false;
        }
    }
    outcome.ok = true;
    return true;
}

}  // namespace vigil::hub::detail
