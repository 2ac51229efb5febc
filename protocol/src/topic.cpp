#include "vigil/protocol/topic.h"

namespace vigil::wire {

namespace {

template <size_t N>
bool has_at(const char* text, size_t length, size_t at, const char (&literal)[N]) {
    constexpr size_t size = N - 1;
    if (at > length || length - at < size) {
        return false;
    }
    for (size_t i = 0; i < size; ++i) {
        if (text[at + i] != literal[i]) {
            return false;
        }
    }
    return true;
}

/// The id after `prefix`, followed by `segment`; false when the topic has neither.
template <size_t P, size_t S>
bool split_after(const char* topic, size_t length, const char (&prefix)[P],
                 const char (&segment)[S], TopicParts& parts) {
    if (!has_at(topic, length, 0, prefix)) {
        return false;
    }
    const size_t id_start = P - 1;
    size_t id_end = id_start;
    while (id_end < length && topic[id_end] != '/') {
        ++id_end;
    }
    if (!has_at(topic, length, id_end, segment)) {
        return false;
    }
    parts.id = topic + id_start;
    parts.id_length = id_end - id_start;
    parts.rest = topic + id_end + (S - 1);
    parts.rest_length = length - (id_end + (S - 1));
    return true;
}

}  // namespace

TopicParts split_topic(const char* topic, size_t length) {
    TopicParts parts;
    if (topic == nullptr) {
        return parts;
    }
    if (split_after(topic, length, kTopicPrefix, kTopicSuffix, parts)) {
        parts.kind = TopicKind::DeviceEvents;
    } else if (split_after(topic, length, kAwsThingPrefix, kAwsMetricsSegment, parts)) {
        parts.kind = TopicKind::AwsMetrics;
    }
    return parts;
}

}  // namespace vigil::wire
