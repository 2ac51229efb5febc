// A small tree of CBOR items for building test inputs by hand: a valid message can be written
// as a tree, one node changed, and the result encoded. Independent of the message encoder, so
// the decoder is tested against bytes it did not produce.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "vigil/protocol/cbor.h"
#include "vigil/protocol/wire.h"

namespace vigil::test {

using Bytes = std::vector<uint8_t>;

struct Node {
    enum class Kind { Uint, ByteString, Text, Array, Map, Bool, Raw };
    Kind kind = Kind::Uint;
    uint64_t value = 0;
    Bytes bytes;              ///< Bytes, Text and Raw (written as they are)
    std::vector<Node> items;  ///< Array; Map as key, value, key, value...

    /// Value of the map entry with unsigned key `key`.
    Node& at(uint64_t key) {
        for (size_t i = 0; i + 1 < items.size(); i += 2) {
            if (items[i].kind == Kind::Uint && items[i].value == key) {
                return items[i + 1];
            }
        }
        throw std::out_of_range("no key " + std::to_string(key));
    }
    Node& operator[](size_t index) { return items.at(index); }

    void erase(uint64_t key) {
        for (size_t i = 0; i + 1 < items.size(); i += 2) {
            if (items[i].kind == Kind::Uint && items[i].value == key) {
                items.erase(items.begin() + static_cast<std::ptrdiff_t>(i),
                            items.begin() + static_cast<std::ptrdiff_t>(i + 2));
                return;
            }
        }
        throw std::out_of_range("no key " + std::to_string(key));
    }
    /// Appends an entry at the end of a map, in whatever order that leaves the keys.
    void append(Node key, Node entry) {
        items.push_back(std::move(key));
        items.push_back(std::move(entry));
    }
};

inline Node U(uint64_t value) {
    Node n;
    n.value = value;
    return n;
}
/// A TCP/UDP port as the wire writes it: a well-known port is the negative integer -1 - index,
/// which for indices below 24 is the single byte 0x20 | index.
inline Node Port(uint16_t port) {
    for (size_t i = 0; i < wire::kWellKnownPortCount; ++i) {
        if (port >= 24 && wire::kWellKnownPorts[i] == port) {
            Node n;
            n.kind = Node::Kind::Raw;
            n.bytes = {static_cast<uint8_t>(0x20 | i)};
            return n;
        }
    }
    return U(port);
}
inline Node Bstr(Bytes bytes) {
    Node n;
    n.kind = Node::Kind::ByteString;
    n.bytes = std::move(bytes);
    return n;
}
inline Node Tstr(const std::string& text) {
    Node n;
    n.kind = Node::Kind::Text;
    n.bytes.assign(text.begin(), text.end());
    return n;
}
inline Node Bool(bool value) {
    Node n;
    n.kind = Node::Kind::Bool;
    n.value = value ? 1 : 0;
    return n;
}
/// Bytes copied into the output as they are: for items the writer cannot produce.
inline Node Raw(Bytes bytes) {
    Node n;
    n.kind = Node::Kind::Raw;
    n.bytes = std::move(bytes);
    return n;
}
inline Node Arr(std::vector<Node> items) {
    Node n;
    n.kind = Node::Kind::Array;
    n.items = std::move(items);
    return n;
}
inline Node Map(std::initializer_list<std::pair<uint64_t, Node>> entries) {
    Node n;
    n.kind = Node::Kind::Map;
    for (const auto& [key, value] : entries) {
        n.items.push_back(U(key));
        n.items.push_back(value);
    }
    return n;
}

/// Runs `write` twice, counting then writing, and returns the bytes.
template <typename Write>
Bytes written(Write&& write) {
    cbor::Writer counter;
    write(counter);
    Bytes out(counter.size());
    cbor::Writer writer(out.data(), out.size());
    write(writer);
    return out;
}

/// Encodes a tree; Raw nodes are spliced in verbatim.
inline Bytes encode(const Node& node) {
    switch (node.kind) {
        case Node::Kind::Uint:
            return written([&](cbor::Writer& w) { w.uint(node.value); });
        case Node::Kind::ByteString:
            return written([&](cbor::Writer& w) { w.bytes(node.bytes.data(), node.bytes.size()); });
        case Node::Kind::Text:
            return written([&](cbor::Writer& w) {
                w.text(reinterpret_cast<const char*>(node.bytes.data()), node.bytes.size());
            });
        case Node::Kind::Bool:
            return written([&](cbor::Writer& w) { w.boolean(node.value != 0); });
        case Node::Kind::Raw:
            return node.bytes;
        case Node::Kind::Array:
        case Node::Kind::Map:
            break;
    }
    const bool is_map = node.kind == Node::Kind::Map;
    Bytes out = written([&](cbor::Writer& w) {
        if (is_map) {
            w.map(node.items.size() / 2);
        } else {
            w.array(node.items.size());
        }
    });
    for (const Node& item : node.items) {
        const Bytes part = encode(item);
        out.insert(out.end(), part.begin(), part.end());
    }
    return out;
}

inline Bytes hex(const std::string& text) {
    Bytes out;
    int high = -1;
    for (char c : text) {
        int digit = -1;
        if (c >= '0' && c <= '9') {
            digit = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            digit = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            digit = c - 'A' + 10;
        } else {
            continue;
        }
        if (high < 0) {
            high = digit;
        } else {
            out.push_back(static_cast<uint8_t>(high * 16 + digit));
            high = -1;
        }
    }
    return out;
}

}  // namespace vigil::test
