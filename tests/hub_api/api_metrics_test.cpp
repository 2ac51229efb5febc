// /healthz and /metrics: health with reasons, and metrics that follow the Prometheus text format.
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "api_fixture.hpp"
#include "vigil/hub/prometheus.hpp"

namespace vigil::hub::testing {
namespace {

class Metrics : public ApiTest {};

struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

// Reads one label set, undoing the escapes; false on anything the format does not allow.
bool parse_labels(const std::string& text, std::map<std::string, std::string>& labels) {
    size_t i = 0;
    static const std::regex name(R"([a-zA-Z_][a-zA-Z0-9_]*)");
    while (i < text.size()) {
        const size_t equals = text.find('=', i);
        if (equals == std::string::npos || !std::regex_match(text.substr(i, equals - i), name) ||
            equals + 1 >= text.size() || text[equals + 1] != '"') {
            return false;
        }
        std::string value;
        size_t j = equals + 2;
        for (; j < text.size() && text[j] != '"'; ++j) {
            if (text[j] == '\\') {
                if (j + 1 >= text.size()) {
                    return false;
                }
                const char next = text[++j];
                if (next != '\\' && next != '"' && next != 'n') {
                    return false;
                }
                value += next == 'n' ? '\n' : next;
            } else if (text[j] == '\n') {
                return false;
            } else {
                value += text[j];
            }
        }
        if (j >= text.size()) {
            return false;
        }
        labels[text.substr(i, equals - i)] = value;
        i = j + 1;
        if (i < text.size() && text[i] == ',') {
            ++i;
        }
    }
    return true;
}

// Checks the text format rules and returns the samples: HELP and TYPE once per family and before
// its samples, a family's samples together, valid names, labels and values.
std::vector<Sample> parse_exposition(const std::string& text,
                                     std::map<std::string, std::string>& types) {
    std::vector<Sample> samples;
    std::set<std::string> helped, finished;
    std::string current;
    static const std::regex metric_name(R"([a-zA-Z_:][a-zA-Z0-9_:]*)");
    std::istringstream lines(text);
    std::string line;
    EXPECT_TRUE(!text.empty() && text.back() == '\n');
    while (std::getline(lines, line)) {
        if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
            std::istringstream words(line.substr(7));
            std::string family, rest;
            words >> family >> rest;
            EXPECT_TRUE(std::regex_match(family, metric_name)) << line;
            if (line[2] == 'H') {
                EXPECT_TRUE(helped.insert(family).second) << "second HELP: " << line;
            } else {
                EXPECT_EQ(types.count(family), 0u) << "second TYPE: " << line;
                EXPECT_TRUE(rest == "counter" || rest == "gauge" || rest == "histogram" ||
                            rest == "summary" || rest == "untyped")
                    << line;
                types[family] = rest;
            }
            continue;
        }
        if (line.empty() || line[0] == '#') {
            ADD_FAILURE() << "stray line: '" << line << "'";
            continue;
        }
        Sample sample;
        const size_t brace = line.find('{');
        const size_t space = brace == std::string::npos ? line.find(' ') : line.rfind("} ") + 1;
        sample.name = line.substr(0, brace == std::string::npos ? space : brace);
        EXPECT_TRUE(std::regex_match(sample.name, metric_name)) << line;
        if (brace != std::string::npos) {
            EXPECT_TRUE(parse_labels(line.substr(brace + 1, space - brace - 2), sample.labels))
                << line;
        }
        const std::string value = line.substr(space + 1);
        char* end = nullptr;
        sample.value = std::strtod(value.c_str(), &end);
        EXPECT_TRUE(*end == '\0' || *end == ' ') << line;
        std::string family = sample.name;
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
            const std::string s = suffix;
            if (family.size() > s.size() &&
                family.compare(family.size() - s.size(), s.size(), s) == 0 &&
                types.count(family.substr(0, family.size() - s.size())) &&
                types[family.substr(0, family.size() - s.size())] == "histogram") {
                family = family.substr(0, family.size() - s.size());
            }
        }
        EXPECT_TRUE(types.count(family)) << "no TYPE before " << line;
        if (family != current) {
            EXPECT_EQ(finished.count(family), 0u) << "family split: " << line;
            finished.insert(current);
            current = family;
        }
        samples.push_back(sample);
    }
    return samples;
}

TEST_F(Metrics, Metrics_followTheTextFormat) {
    write({report("dev-1", "k1", kNowMs - 1000), report("dev-2", "k2", kNowMs - 3600 * 1000)});
    call("GET", "/api/devices");
    call("GET", "/api/devices/nobody");
    call("GET", "/api/devices", "", std::string());
    const Reply reply = call("GET", "/metrics", "", std::string());
    ASSERT_EQ(reply.status, 200);
    EXPECT_NE(reply.content_type.find("text/plain; version=0.0.4"), std::string::npos);
    std::map<std::string, std::string> types;
    const std::vector<Sample> samples = parse_exposition(reply.text, types);
    std::map<std::string, double> found;
    for (const Sample& s : samples) {
        std::string key = s.name;
        for (const auto& [k, v] : s.labels) {
            key += "|" + k + "=" + v;
        }
        found[key] = s.value;
    }
    EXPECT_EQ(found["vigil_ingest_messages_total|format=vigil"], 12);  // from HubControl
    EXPECT_EQ(found["vigil_store_devices"], 2);
    EXPECT_EQ(found["vigil_store_devices_active|window_seconds=300"], 1);
    EXPECT_EQ(found["vigil_store_rows|table=flows"], 4);
    EXPECT_GT(found["vigil_store_size_bytes"], 0);
    EXPECT_EQ(found["vigil_api_requests_total|method=GET|route=/api/devices|status=200"], 1);
    EXPECT_EQ(found["vigil_api_requests_total|method=GET|route=/api/devices/{id}|status=404"], 1);
    EXPECT_EQ(found["vigil_api_requests_total|method=GET|route=unmatched|status=401"], 1);
    EXPECT_EQ(types["vigil_api_request_duration_seconds"], "histogram");
    // Histogram: cumulative buckets ending in +Inf, equal to _count.
    const std::string route = "/api/devices";
    double last = 0;
    bool saw_inf = false;
    for (const Sample& s : samples) {
        if (s.name == "vigil_api_request_duration_seconds_bucket" &&
            s.labels.at("route") == route) {
            EXPECT_GE(s.value, last);
            last = s.value;
            saw_inf = saw_inf || s.labels.at("le") == "+Inf";
        }
    }
    EXPECT_TRUE(saw_inf);
    EXPECT_EQ(last, found["vigil_api_request_duration_seconds_count|route=" + route]);
    EXPECT_TRUE(found.count("vigil_api_request_duration_seconds_sum|route=" + route));
}

// Anyone may send requests without a token: what they choose for the method or the path must not
// become a label value, or each request could add a series until /metrics is too large to scrape.
TEST_F(Metrics, Metrics_madeUpMethodsAndPathsAddNoSeries) {
    httplib::Client client(url());
    client.set_read_timeout(5, 0);
    const auto send_made_up = [&](int i) {
        httplib::Request request;
        request.method = "M" + std::to_string(i);
        request.path = "/made-up/" + std::to_string(i);
        const httplib::Result result = client.send(request);
        ASSERT_TRUE(result) << httplib::to_string(result.error());
        if (i % 4 != 0) {
            return;
        }
        httplib::Request get;
        get.method = "GET";
        get.path = "/made-up/" + std::to_string(i);
        get.set_header("Authorization", "Bearer " + admin_token_);
        const httplib::Result found = client.send(get);
        ASSERT_TRUE(found);
        EXPECT_EQ(found->status, 404);
    };
    const auto series = [&] {
        std::map<std::string, std::string> types;
        const Reply reply = call("GET", "/metrics", "", std::string());
        return parse_exposition(reply.text, types).size();
    };
    send_made_up(0);
    series();  // /metrics' own series appear with its first answer
    const size_t before = series();
    for (int i = 1; i <= 2000 && !HasFatalFailure(); ++i) {
        send_made_up(i);
    }
    EXPECT_EQ(series(), before);
    const Reply reply = call("GET", "/metrics", "", std::string());
    EXPECT_NE(reply.text.find("{route=\"unmatched\",method=\"other\",status=\"400\"} 2001"),
              std::string::npos)
        << reply.text;
    EXPECT_EQ(reply.text.find("M2000"), std::string::npos);
    EXPECT_EQ(reply.text.find("made-up"), std::string::npos);
}

TEST(PrometheusWriter, EscapeLabel_escapesBackslashQuoteAndNewline) {
    EXPECT_EQ(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    PrometheusWriter out;
    out.family("x_total", "counter", "Help with a \\ and a\nnewline.");
    out.sample("x_total", {{"path", "C:\\dir \"q\"\n"}}, 3);
    std::map<std::string, std::string> types;
    const auto samples = parse_exposition(out.text(), types);
    ASSERT_EQ(samples.size(), 1u);
    EXPECT_EQ(samples[0].labels.at("path"), "C:\\dir \"q\"\n");
    EXPECT_NE(out.text().find("# HELP x_total Help with a \\\\ and a\\nnewline."),
              std::string::npos);
}

TEST_F(Metrics, Healthz_is503WithAReasonWhenIngestIsDown) {
    const Reply up = call("GET", "/healthz", "", std::string());
    EXPECT_EQ(up.status, 200);
    EXPECT_EQ(up.body["status"], "ok");
    control_.healthy = false;
    const Reply down = call("GET", "/healthz", "", std::string());
    EXPECT_EQ(down.status, 503);
    EXPECT_EQ(down.body["error"], "unavailable");
    EXPECT_NE(down.body["reasons"][0].get<std::string>().find("not connected"), std::string::npos);
}

}  // namespace
}  // namespace vigil::hub::testing
