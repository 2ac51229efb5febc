// The syslog output: the RFC 5424 text itself, then real UDP and TCP receivers on loopback,
// octet-counting framing and a receiver that goes away and comes back.
#include <gtest/gtest.h>

#include "support.hpp"
#include "vigil/hub/outputs/syslog_message.hpp"
#include "vigil/hub/outputs/syslog_output.hpp"

namespace vigil::hub::outputs::test {
namespace {

const SyslogOrigin kOrigin{13, "hub-1", "vigil-hub", 4242};

TEST(SyslogMessage, HeaderStructuredDataAndMessage) {
    const std::string message = syslog_message(sample_event(41), kOrigin, 1'765'000'000'123);
    EXPECT_EQ(message,
              "<107>1 2025-12-06T05:46:40.123Z hub-1 vigil-hub 4242 scan.port_inbound "
              "[vigil@32473 id=\"41\" device=\"plc-7\" category=\"port_scan_inbound\" "
              "severity=\"high\" subject=\"203.0.113.9\" change=\"opened\"] "
              "\xEF\xBB\xBFInbound port scan from 203.0.113.9: 20 ports in 40 s");
}

TEST(SyslogMessage, RecommendationKindAsMsgIdAndRemediationAsText) {
    RecommendationEvent event = sample_recommendation_event(9, Severity::Critical);
    const std::string message = syslog_message(event, kOrigin, event_time_ms(event));
    EXPECT_EQ(message,
              "<106>1 2025-12-06T05:46:40.456Z hub-1 vigil-hub 4242 service.cleartext "
              "[vigil@32473 recommendation=\"9\" device=\"plc-7\" kind=\"service.cleartext\" "
              "severity=\"critical\" subject=\"tcp/23\" change=\"opened\"] "
              "\xEF\xBB\xBFTelnet listens on tcp/23: Turn telnet off");
    event.recommendation.subject = R"(a"b)";
    event.recommendation.remediation = "";
    const auto frame = parse_syslog(syslog_message(event, kOrigin, 0, 2048));
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->params.at("subject"), R"(a"b)");
    EXPECT_EQ(frame->msg, "Telnet listens on tcp/23");
}

TEST(SyslogMessage, PriorityFollowsFacilityAndSeverity) {
    const std::pair<Severity, int> cases[] = {{Severity::Critical, 2},
                                              {Severity::High, 3},
                                              {Severity::Medium, 4},
                                              {Severity::Low, 5},
                                              {Severity::Info, 6}};
    for (const auto& [severity, code] : cases) {
        SyslogOrigin origin = kOrigin;
        origin.facility = 4;
        const auto frame = parse_syslog(syslog_message(sample_event(1, severity), origin, 0));
        ASSERT_TRUE(frame);
        EXPECT_EQ(frame->pri, 4 * 8 + code);
        EXPECT_EQ(frame->timestamp, "1970-01-01T00:00:00.000Z");
    }
}

TEST(SyslogMessage, EscapesParameterValuesAndCleansHeaderFields) {
    AlertEvent event = sample_event(5);
    event.alert.subject = R"(a"b\c]d)";
    event.alert.type = "rule.with space and a very long name beyond thirty-two";
    SyslogOrigin origin = kOrigin;
    origin.hostname = "";
    const std::string message = syslog_message(event, origin, 0);
    EXPECT_NE(message.find(R"(subject="a\"b\\c\]d")"), std::string::npos) << message;
    const auto frame = parse_syslog(message);
    ASSERT_TRUE(frame) << message;
    EXPECT_EQ(frame->params.at("subject"), R"(a"b\c]d)");
    EXPECT_EQ(frame->msgid, "rule.with_space_and_a_very_long_");
    EXPECT_EQ(frame->msgid.size(), 32u);
    EXPECT_EQ(frame->hostname, "-");
}

// Every byte of what follows the BOM is well-formed UTF-8.
bool valid_utf8(const std::string& text) {
    for (size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        const size_t length = c < 0x80         ? 1
                              : (c >> 5) == 6  ? 2
                              : (c >> 4) == 14 ? 3
                              : (c >> 3) == 30 ? 4
                                               : 0;
        if (length == 0 || i + length > text.size()) {
            return false;
        }
        for (size_t k = 1; k < length; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) >> 6) != 2) {
                return false;
            }
        }
        i += length;
    }
    return true;
}

TEST(SyslogMessage, InvalidUtf8IsReplacedAndCutsKeepCharactersWhole) {
    AlertEvent event = sample_event(6);
    event.alert.title = "bad \xC3\x28 byte \xED\xA0\x80 surrogate";
    event.alert.description = "";
    std::string frame_text = syslog_message(event, kOrigin, 0);
    auto frame = parse_syslog(frame_text);
    ASSERT_TRUE(frame);
    EXPECT_TRUE(valid_utf8(frame->msg));
    EXPECT_EQ(frame->msg, "bad \xEF\xBF\xBD( byte \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD surrogate");

    std::string euros;
    for (int i = 0; i < 1000; ++i) {
        euros += "\xE2\x82\xAC";  // three bytes each
    }
    event.alert.title = euros;
    event.alert.subject = std::string(5000, ']');
    for (size_t max = 2040; max <= 2048; ++max) {
        frame_text = syslog_message(event, kOrigin, 0, max);
        EXPECT_LE(frame_text.size(), max);
        EXPECT_GT(frame_text.size(), max - 3);
        frame = parse_syslog(frame_text);
        ASSERT_TRUE(frame);
        EXPECT_TRUE(valid_utf8(frame->msg));
        EXPECT_EQ(frame->params.at("subject"), std::string(256, ']'));
    }
}

detect::OutputSettings syslog_settings(uint16_t port, bool tcp) {
    detect::OutputSettings s = settings_of(detect::OutputKind::Syslog, "siem");
    s.address = "127.0.0.1:" + std::to_string(port);
    s.tcp = tcp;
    return s;
}

std::unique_ptr<Output> syslog_output(const detect::OutputSettings& s) {
    std::string error;
    auto output = make_syslog_output(s, error);
    EXPECT_NE(output, nullptr) << error;
    return output;
}

TEST(SyslogUdp, OneDatagramPerEvent) {
    UdpReceiver receiver;
    detect::OutputSettings s = syslog_settings(receiver.port(), false);
    s.facility = 10;
    auto output = syslog_output(s);
    AlertEvent event = sample_event(12, Severity::Critical, AlertChange::Opened);
    event.alert.subject = R"(x]"y)";
    output->deliver(event);
    const auto datagram = receiver.receive();
    ASSERT_TRUE(datagram);
    const auto frame = parse_syslog(*datagram);
    ASSERT_TRUE(frame) << *datagram;
    EXPECT_EQ(frame->pri, 10 * 8 + 2);
    EXPECT_EQ(frame->version, "1");
    EXPECT_EQ(frame->timestamp, "2025-12-06T05:46:40.123Z");
    EXPECT_EQ(frame->app_name, "vigil-hub");
    EXPECT_EQ(frame->procid, std::to_string(getpid()));
    EXPECT_EQ(frame->msgid, "scan.port_inbound");
    EXPECT_EQ(frame->sd_id, "vigil@32473");
    EXPECT_EQ(frame->params.at("id"), "12");
    EXPECT_EQ(frame->params.at("device"), "plc-7");
    EXPECT_EQ(frame->params.at("category"), "port_scan_inbound");
    EXPECT_EQ(frame->params.at("severity"), "critical");
    EXPECT_EQ(frame->params.at("subject"), R"(x]"y)");
    EXPECT_TRUE(frame->bom);
    EXPECT_EQ(frame->msg, "Inbound port scan from 203.0.113.9: 20 ports in 40 s");
    ASSERT_TRUE(wait_for([&] { return output->metrics().sent == 1; }, 2000));
}

TEST(SyslogUdp, LongAlertIsCutToOneDatagramOf2048Bytes) {
    UdpReceiver receiver;
    auto output = syslog_output(syslog_settings(receiver.port(), false));
    AlertEvent event = sample_event(13);
    event.alert.description = std::string(10000, 'x');
    output->deliver(event);
    const auto datagram = receiver.receive();
    ASSERT_TRUE(datagram);
    EXPECT_EQ(datagram->size(), 2048u);
    EXPECT_TRUE(parse_syslog(*datagram));
}

TEST(SyslogTcp, OctetCountedFrames) {
    TcpReceiver receiver;
    auto output = syslog_output(syslog_settings(receiver.port(), true));
    AlertEvent multi_line = sample_event(21);
    multi_line.alert.description = "line one\nline two";
    output->deliver(multi_line);
    output->deliver(sample_event(22, Severity::Low));
    const auto first = receiver.receive();
    const auto second = receiver.receive();
    ASSERT_TRUE(first && second);
    const auto a = parse_syslog(*first);
    const auto b = parse_syslog(*second);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->params.at("id"), "21");
    EXPECT_EQ(a->msg, "Inbound port scan from 203.0.113.9: line one\nline two");
    EXPECT_EQ(b->params.at("id"), "22");
    EXPECT_EQ(b->pri, 13 * 8 + 5);
}

TEST(SyslogTcp, ReconnectsWhenTheReceiverComesBack) {
    TcpReceiver receiver;
    const uint16_t port = receiver.port();
    detect::OutputSettings s = syslog_settings(port, true);
    s.retries = 1000;
    auto output = syslog_output(s);
    output->deliver(sample_event(31));
    ASSERT_TRUE(receiver.receive());

    receiver.close_all();  // the receiver goes away
    output->deliver(sample_event(32));
    ASSERT_TRUE(wait_for([&] { return output->metrics().failed >= 2; }, 3000));
    receiver.listen_on(port);  // and comes back
    const auto message = receiver.receive(5000);
    ASSERT_TRUE(message);
    EXPECT_EQ(parse_syslog(*message)->params.at("id"), "32");
    ASSERT_TRUE(wait_for([&] { return output->metrics().sent == 2; }, 2000));
    EXPECT_EQ(output->metrics().given_up, 0u);
}

TEST(SyslogTcp, AbsentReceiverIsGivenUpAfterTheRetries) {
    detect::OutputSettings s = syslog_settings(free_port(), true);
    s.retries = 1;
    auto output = syslog_output(s);
    output->deliver(sample_event(41));
    ASSERT_TRUE(wait_for([&] { return output->metrics().given_up == 1; }, 3000));
    EXPECT_EQ(output->metrics().failed, 2u);
    EXPECT_NE(output->metrics().last_failure.find("Connection refused"), std::string::npos)
        << output->metrics().last_failure;
}

TEST(Syslog, RefusesBadSettings) {
    std::string error;
    detect::OutputSettings s = syslog_settings(514, false);
    for (const char* address : {"localhost", "host:", "host:70000", ":514", "[::1:514", "h:5x"}) {
        s.address = address;
        EXPECT_EQ(make_syslog_output(s, error), nullptr) << address;
    }
    s.address = "[::1]:514";
    EXPECT_NE(make_syslog_output(s, error), nullptr) << error;
    s.facility = 24;
    EXPECT_EQ(make_syslog_output(s, error), nullptr);
    EXPECT_NE(error.find("facility"), std::string::npos);
}

}  // namespace
}  // namespace vigil::hub::outputs::test
