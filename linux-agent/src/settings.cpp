#include "settings.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <sstream>

#include <toml++/toml.h>

#include "vigil/ports/replay.hpp"
#include "vigil/protocol/cbor.h"
#include "vigil/protocol/device_id.h"

namespace vigil::linux_agent {
namespace {

/// Walks one TOML table: every key must be known, and each reader checks its value's type.
class TableReader {
  public:
    TableReader(const toml::table& table, std::string prefix, std::vector<std::string>& errors)
        : table_(table), prefix_(std::move(prefix)), errors_(errors) {}

    using Handler = std::function<void(const toml::node&, const std::string& key)>;

    TableReader& on(const std::string& key, Handler handler) {
        handlers_[key] = std::move(handler);
        return *this;
    }

    void run() {
        for (auto&& [key, node] : table_) {
            const std::string name(key.str());
            const auto handler = handlers_.find(name);
            if (handler == handlers_.end()) {
                fail(node, prefix_ + name, "unknown setting");
                continue;
            }
            handler->second(node, prefix_ + name);
        }
    }

    void fail(const toml::node& node, const std::string& key, const std::string& why) {
        std::ostringstream line;
        line << "line " << node.source().begin.line << ": " << key << ": " << why;
        errors_.push_back(line.str());
    }

  private:
    const toml::table& table_;
    std::string prefix_;
    std::vector<std::string>& errors_;
    std::map<std::string, Handler> handlers_;
};

TableReader::Handler text(TableReader& reader, std::string& out) {
    return [&reader, &out](const toml::node& node, const std::string& key) {
        if (const auto* value = node.as_string()) {
            out = value->get();
        } else {
            reader.fail(node, key, "must be a string");
        }
    };
}

TableReader::Handler flag(TableReader& reader, bool& out) {
    return [&reader, &out](const toml::node& node, const std::string& key) {
        if (const auto* value = node.as_boolean()) {
            out = value->get();
        } else {
            reader.fail(node, key, "must be true or false");
        }
    };
}

template <typename Integer>
TableReader::Handler number(TableReader& reader, Integer& out, int64_t minimum, int64_t maximum) {
    return [&reader, &out, minimum, maximum](const toml::node& node, const std::string& key) {
        const auto* value = node.as_integer();
        if (value == nullptr) {
            reader.fail(node, key, "must be an integer");
        } else if (value->get() < minimum || value->get() > maximum) {
            reader.fail(
                node, key,
                "must be between " + std::to_string(minimum) + " and " + std::to_string(maximum));
        } else {
            out = static_cast<Integer>(value->get());
        }
    };
}

TableReader::Handler texts(TableReader& reader, std::vector<std::string>& out) {
    return [&reader, &out](const toml::node& node, const std::string& key) {
        const auto* array = node.as_array();
        if (array == nullptr) {
            reader.fail(node, key, "must be an array of strings");
            return;
        }
        out.clear();
        for (const toml::node& item : *array) {
            if (const auto* value = item.as_string()) {
                out.push_back(value->get());
            } else {
                reader.fail(item, key, "must be an array of strings");
            }
        }
    };
}

using Nested = std::function<void(const toml::table&, const std::string& prefix)>;

TableReader::Handler table(TableReader& reader, Nested nested) {
    return [&reader, nested = std::move(nested)](const toml::node& node, const std::string& key) {
        if (const auto* value = node.as_table()) {
            nested(*value, key + ".");
        } else {
            reader.fail(node, key, "must be a table");
        }
    };
}

/// Room for any encoded config: the agent core encodes its starting settings into 96 bytes.
constexpr size_t kEncodedConfigBytes = 256;

/// Opens `path` for reading, refusing what cannot hold a setting's contents (a directory); -1
/// with `why` set on failure. Non-blocking, so that a FIFO without a writer cannot stall the
/// start.
int open_for_reading(const std::string& path, std::string& why) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        why = "cannot read " + path + ": " + std::strerror(errno);
        return -1;
    }
    struct stat status {};
    if (::fstat(fd, &status) != 0 || S_ISDIR(status.st_mode)) {
        why = "cannot read " + path + ": " +
              (S_ISDIR(status.st_mode) ? std::string("is a directory") : std::strerror(errno));
        ::close(fd);
        return -1;
    }
    return fd;
}

bool readable(const std::string& path, std::string& why) {
    const int fd = open_for_reading(path, why);
    if (fd < 0) {
        return false;
    }
    ::close(fd);
    return true;
}

/// The first line of `path`, trailing CR and spaces removed. Reads at most
/// kMaxPasswordBytes + 2 bytes (the password and its line end), whatever the file is.
bool read_secret(const std::string& path, std::string& out, std::string& why) {
    const int fd = open_for_reading(path, why);
    if (fd < 0) {
        return false;
    }
    std::string content(kMaxPasswordBytes + 2, '\0');
    size_t filled = 0;
    bool line_complete = false;
    while (!line_complete && filled < content.size()) {
        const ssize_t n = ::read(fd, content.data() + filled, content.size() - filled);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            why = "cannot read " + path + ": " + std::strerror(errno);
            ::close(fd);
            return false;
        }
        if (n == 0) {
            break;
        }
        line_complete = std::memchr(content.data() + filled, '\n', static_cast<size_t>(n));
        filled += static_cast<size_t>(n);
    }
    ::close(fd);
    content.resize(filled);
    const size_t line_end = content.find('\n');
    out = content.substr(0, line_end);
    while (!out.empty() && (out.back() == '\r' || out.back() == ' ')) {
        out.pop_back();
    }
    if (out.size() > kMaxPasswordBytes ||
        (line_end == std::string::npos && filled == content.size())) {
        why = path + ": the password is longer than " + std::to_string(kMaxPasswordBytes) +
              " bytes, the most an MQTT CONNECT carries";
        out.clear();
        return false;
    }
    if (out.find('\0') != std::string::npos) {
        why = path + ": the password holds a NUL byte, where the MQTT client would cut it short";
        out.clear();
        return false;
    }
    if (out.empty()) {
        why = path + ": the first line is empty";
        return false;
    }
    return true;
}

void read_collection(const toml::table& source, const std::string& prefix, Settings& settings,
                     std::vector<std::string>& errors) {
    wire::ConfigFields& c = settings.collection;
    TableReader reader(source, prefix, errors);
    const int64_t min_s = wire::kMinIntervalS;
    const int64_t max_s = wire::kMaxIntervalS;
    reader.on("high_interval_s", number(reader, c.interval_s[0], min_s, max_s))
        .on("medium_interval_s", number(reader, c.interval_s[1], min_s, max_s))
        .on("low_interval_s", number(reader, c.interval_s[2], min_s, max_s))
        .on("unicast_only", flag(reader, c.unicast_only))
        .on("pending_timeout_s", number(reader, c.pending_timeout_s, 1, wire::kMaxPendingTimeoutS))
        .on("retry_s", number(reader, c.retry_s, 1, wire::kMaxRetryS))
        .on("first_collection_splay_s", number(reader, settings.first_collection_splay_s, 0, 3600));
    struct Named {
        const char* name;
        size_t index;  ///< collector id - 1
    };
    // Each collector by its protocol name, and "system_information", this file's name for the
    // system collector before the names were shared, so that older settings files still load.
    const Named collectors[] = {
        {wire::kCollectorNames[0], 0},
        {wire::kCollectorNames[1], 1},
        {wire::kCollectorNames[2], 2},
        {wire::kCollectorNames[3], 3},
        {"system_information", static_cast<size_t>(wire::CollectorId::System) - 1}};
    static_assert(wire::kCollectorCount == 4, "one entry per collector");
    for (const Named& named : collectors) {
        wire::CollectorSetting& setting = c.collectors[named.index];
        reader.on(
            named.name,
            table(reader, [&setting, &errors](const toml::table& t, const std::string& p) {
                TableReader collector(t, p, errors);
                collector.on("enabled", flag(collector, setting.enabled))
                    .on("priority", [&collector, &setting](const toml::node& node,
                                                           const std::string& key) {
                        const auto* value = node.as_string();
                        const std::string name = value != nullptr ? value->get() : "";
                        if (!wire::priority_from_name(name.data(), name.size(), setting.priority)) {
                            collector.fail(node, key, "must be \"high\", \"medium\" or \"low\"");
                        }
                    });
                collector.run();
            }));
    }
    reader.run();
}

void read_mqtt(const toml::table& source, const std::string& prefix, Settings& settings,
               std::vector<std::string>& errors) {
    MqttSettings& m = settings.mqtt;
    TableReader reader(source, prefix, errors);
    std::string password_file;
    reader.on("host", text(reader, m.host))
        .on("port", number(reader, m.port, 1, 65535))
        .on("client_id", text(reader, m.client_id))
        .on("username", text(reader, m.username))
        .on("password", text(reader, m.password))
        .on("password_file", text(reader, password_file))
        .on("tls", flag(reader, m.tls))
        .on("ca_file", text(reader, m.ca_file))
        .on("cert_file", text(reader, m.cert_file))
        .on("key_file", text(reader, m.key_file))
        .on("tls_version", text(reader, m.tls_version))
        .on("keepalive_s", number(reader, m.keepalive_s, 5, 65535))
        .on("reconnect_min_s", number(reader, m.reconnect_min_s, 1, 3600))
        .on("reconnect_max_s", number(reader, m.reconnect_max_s, 1, 3600))
        .on("max_unacked", number(reader, m.max_unacked, 1, 65535))
        .on("flush_timeout_s", number(reader, settings.flush_timeout_s, 0, 600));
    reader.run();
    if (!password_file.empty()) {
        if (!m.password.empty()) {
            errors.push_back(prefix + "password and " + prefix +
                             "password_file: give one or the other");
        } else if (std::string why; !read_secret(password_file, m.password, why)) {
            errors.push_back(prefix + "password_file: " + why);
        }
    }
    settings.mqtt_enabled = !m.host.empty();
}

}  // namespace

bool load_settings_file(const std::string& path, Settings& settings,
                        std::vector<std::string>& errors) {
    const size_t before = errors.size();
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        std::ostringstream line;
        line << path << ": line " << e.source().begin.line << ", column " << e.source().begin.column
             << ": " << e.description();
        errors.push_back(line.str());
        return false;
    }
    TableReader reader(root, "", errors);
    reader.on("device_id", text(reader, settings.device_id))
        .on("firmware_version", text(reader, settings.firmware_version))
        .on("log_level", text(reader, settings.log_level))
        .on("capture", table(reader,
                             [&](const toml::table& t, const std::string& p) {
                                 TableReader capture(t, p, errors);
                                 CaptureSettings& c = settings.capture;
                                 capture.on("interfaces", texts(capture, c.interfaces))
                                     .on("snap_length", number(capture, c.snap_length, 64, 65535))
                                     .on("ring_block_kb",
                                         number(capture, c.ring_block_kb, 4, 65536))
                                     .on("ring_blocks", number(capture, c.ring_blocks, 1, 1024));
                                 capture.run();
                             }))
        .on("replay", table(reader,
                            [&](const toml::table& t, const std::string& p) {
                                TableReader replay(t, p, errors);
                                ReplaySettings& r = settings.replay;
                                replay.on("pcap", text(replay, r.pcap))
                                    .on("local_addresses", texts(replay, r.local_addresses))
                                    .on("packets_per_second",
                                        number(replay, r.packets_per_second, 0, 10000000));
                                replay.run();
                            }))
        .on("mqtt", table(reader, [&](const toml::table& t,
                                      const std::string& p) { read_mqtt(t, p, settings, errors); }))
        .on("collection", table(reader, [&](const toml::table& t, const std::string& p) {
                read_collection(t, p, settings, errors);
            }));
    reader.run();
    for (size_t i = before; i < errors.size(); ++i) {
        errors[i] = path + ": " + errors[i];
    }
    return errors.size() == before;
}

bool check_settings(const Settings& settings, std::vector<std::string>& errors) {
    const size_t before = errors.size();
    const std::string& id = settings.device_id;
    if (id.empty()) {
        errors.push_back("device_id: required");
    } else if (id.size() > wire::kMaxDeviceIdBytes) {
        errors.push_back("device_id: at most 127 characters");
    } else if (!wire::valid_device_id(id.data(), id.size())) {
        errors.push_back("device_id: only A-Z a-z 0-9 - . _ : are allowed");
    }
    const std::string levels[] = {"error", "warning", "info", "debug"};
    if (std::find(std::begin(levels), std::end(levels), settings.log_level) == std::end(levels)) {
        errors.push_back("log_level: must be error, warning, info or debug");
    }
    for (const std::string& name : settings.capture.interfaces) {
        if (name.empty() || name.size() >= 16) {
            errors.push_back("capture.interfaces: \"" + name + "\" is not an interface name");
        }
    }
    const uint64_t ring_bytes =
        uint64_t{settings.capture.ring_block_kb} * 1024 * settings.capture.ring_blocks;
    if (ring_bytes > 64ull << 20) {
        errors.push_back("capture: ring_block_kb x ring_blocks must stay within 64 MiB");
    }
    if (settings.mqtt_enabled) {
        const MqttSettings& m = settings.mqtt;
        if (m.reconnect_min_s > m.reconnect_max_s) {
            errors.push_back("mqtt.reconnect_min_s: must not exceed mqtt.reconnect_max_s");
        }
        if (m.tls && m.ca_file.empty()) {
            errors.push_back("mqtt.ca_file: required when mqtt.tls is true");
        }
        if (!m.tls && (!m.ca_file.empty() || !m.cert_file.empty() || !m.key_file.empty())) {
            errors.push_back("mqtt: certificate files are given but mqtt.tls is false");
        }
        if (m.cert_file.empty() != m.key_file.empty()) {
            errors.push_back("mqtt.cert_file and mqtt.key_file: give both or neither");
        }
        for (const auto& [key, file] :
             {std::pair{"mqtt.ca_file", &m.ca_file}, std::pair{"mqtt.cert_file", &m.cert_file},
              std::pair{"mqtt.key_file", &m.key_file}}) {
            if (std::string why; !file->empty() && !readable(*file, why)) {
                errors.push_back(std::string(key) + ": " + why);
            }
        }
        if (!m.password.empty() && m.username.empty()) {
            errors.push_back("mqtt.password: needs mqtt.username");
        }
    }
    if (std::string why; !settings.replay.pcap.empty() && !readable(settings.replay.pcap, why)) {
        errors.push_back("replay.pcap: " + why);
    }
    (void)local_addresses(settings.replay, errors);
    // The agent takes the starting collection settings through the hub's own config decoder
    // (AgentBase::apply_local_config): run that decoder here too, so that the check refuses
    // whatever the start would.
    wire::ConfigFields starting = settings.collection;
    starting.version = 0;
    uint8_t encoded[kEncodedConfigBytes];
    cbor::Writer writer(encoded, sizeof(encoded));
    wire::encode_config(writer, starting);
    wire::ConfigFields decoded;
    uint32_t version = 0;
    const wire::ConfigError refused =
        writer.ok() ? wire::decode_config_settings(encoded, writer.size(), decoded, version)
                    : wire::ConfigError::Malformed;
    if (refused != wire::ConfigError::None) {
        errors.push_back(std::string("collection: ") + wire::to_string(refused));
    }
    return errors.size() == before;
}

std::vector<vigil_address> local_addresses(const ReplaySettings& replay,
                                           std::vector<std::string>& errors) {
    std::vector<vigil_address> addresses;
    for (const std::string& text : replay.local_addresses) {
        vigil_address address;
        if (ports::posix::parse_address(text, address)) {
            addresses.push_back(address);
        } else {
            errors.push_back("replay.local_addresses: \"" + text + "\" is not an IP address");
        }
    }
    return addresses;
}

std::string describe(const Settings& settings) {
    std::ostringstream out;
    out << "device " << settings.device_id;
    if (!settings.replay.pcap.empty()) {
        out << "; replaying " << settings.replay.pcap;
    } else if (settings.capture.interfaces.empty()) {
        out << "; capturing on every interface that is up";
    } else {
        out << "; capturing on";
        for (const std::string& name : settings.capture.interfaces) {
            out << ' ' << name;
        }
    }
    if (settings.mqtt_enabled) {
        const MqttSettings& m = settings.mqtt;
        out << "; broker " << m.host << ':' << m.port << (m.tls ? " (TLS" : " (plain")
            << (m.username.empty() ? ")" : ", user " + m.username + ")");
    } else {
        out << "; no broker";
    }
    const wire::ConfigFields& c = settings.collection;
    out << "; intervals " << c.interval_s[0] << "/" << c.interval_s[1] << "/" << c.interval_s[2]
        << " s";
    return out.str();
}

}  // namespace vigil::linux_agent
