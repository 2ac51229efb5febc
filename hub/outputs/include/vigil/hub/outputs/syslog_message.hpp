// An alert event as an RFC 5424 syslog message:
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [vigil@32473 id=".." ...] BOM title:
//   description
// PRI is the facility times 8 plus the syslog severity of the alert's severity; MSGID is the alert
// type; the structured data carries the alert's id, device, category, severity, subject and change.
// A recommendation event is the same message with the kind as MSGID, the recommendation's id,
// device, kind, severity, subject and change as structured data, and its title and remediation
// as the text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "vigil/hub/alert.hpp"
#include "vigil/hub/recommendation.hpp"

namespace vigil::hub::outputs {

/// Who sends: the header fields that are the same for every message of one output.
struct SyslogOrigin {
    uint8_t facility = 13;  ///< 0..23; 13 is log audit
    std::string hostname;   ///< "" is written as the nil value "-"
    std::string app_name;
    int64_t procid = 0;
};

/// RFC 5424 severity: critical 2, high 3 (error), medium 4 (warning), low 5 (notice), info 6.
uint8_t syslog_severity(Severity severity);

/// The hub time of the change the event reports (raised, raised again, acknowledged or
/// resolved); 0 when the alert does not say.
int64_t event_time_ms(const AlertEvent& event);
/// The hub time of the recommendation's change: its latest update.
int64_t event_time_ms(const RecommendationEvent& event);

/// The message, UTF-8 throughout (invalid sequences replaced by U+FFFD). With max_bytes above 0
/// the message is cut to at most that many bytes, inside the free text and never inside a UTF-8
/// sequence; header and structured data fit in the 2048 bytes every receiver accepts.
std::string syslog_message(const AlertEvent& event, const SyslogOrigin& origin,
                           int64_t timestamp_ms, size_t max_bytes = 0);
std::string syslog_message(const RecommendationEvent& event, const SyslogOrigin& origin,
                           int64_t timestamp_ms, size_t max_bytes = 0);

/// RFC 6587 octet counting: the length in decimal, a space, the message.
std::string octet_counted(const std::string& message);

}  // namespace vigil::hub::outputs
