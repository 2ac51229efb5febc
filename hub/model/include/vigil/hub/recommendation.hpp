// Security hygiene as the hub keeps and shows it: what a device team should change on a device
// before anything happens, with the evidence behind it.
//
// A recommendation opens when a check finds the problem in a report, closes by itself when a
// later report shows the device no longer has it (with the time it closed), and can be dismissed
// by a person with a reason; a dismissed one reopens when its evidence changes (a dismissal
// holds to the evidence it was given for). Two clocks, as alerts: observed times are the
// device's own, opened, updated, closed and dismissed times are the hub's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/alert.hpp"

namespace vigil::hub {

enum class RecommendationState : uint8_t { Open = 0, Dismissed = 1, Closed = 2 };
const char* to_string(RecommendationState state);  ///< "open", "dismissed", "closed"
std::optional<RecommendationState> recommendation_state_named(const std::string& name);

/// One problem a hygiene check found on one device, in one report.
struct RecommendationFinding {
    /// Stable across releases, one per check: "firmware.vulnerable", "service.cleartext".
    std::string kind;
    /// What it is about within the kind ("netxduo", "tcp/23"); "" when the kind has one per
    /// device.
    std::string subject;
    Severity severity = Severity::Medium;
    std::string title;        ///< one line: "NetX Duo 6.2.1 has 9 published vulnerabilities"
    std::string rationale;    ///< why it matters, in words a person understands
    std::string remediation;  ///< what to change
    /// JSON object: which report, which flows or ports, which version string.
    std::string evidence_json = "{}";
    /// The part of the evidence a dismissal holds to ("netxduo 6.2.1"): a dismissed
    /// recommendation reopens when a finding's key differs from the one it was dismissed with.
    std::string evidence_key;
    /// Whether a later finding with the same evidence key replaces the evidence. False where the
    /// key holds all the evidence shows besides the report it came from (a release and its
    /// CVEs): the evidence stays the one of the report that opened or last changed the
    /// recommendation, with its words and severity, and later reports move last observed only.
    bool refresh_evidence = true;
};

/// One check's complete answer about one device from one report: the problems of `kind` the
/// report shows now, none when it shows the device clear of them. The store opens or updates a
/// recommendation per finding and closes the device's other recommendations of that kind. A
/// report that carries nothing a check can judge (no system information for the firmware
/// check) makes no scan, so nothing closes for lack of evidence.
struct RecommendationScan {
    std::string device_id;
    std::string kind;
    std::vector<RecommendationFinding> findings;  ///< each of `kind`, one per subject
    int64_t observed_ms = 0;                      ///< device time of the report
    int64_t scanned_ms = 0;                       ///< hub time
};

struct Recommendation {
    int64_t id = 0;
    std::string device_id, kind, subject;
    RecommendationState state = RecommendationState::Open;
    Severity severity = Severity::Medium;
    std::string title, rationale, remediation;
    std::string evidence_json = "{}";  ///< of the latest finding
    std::string evidence_key;
    int64_t first_observed_ms = 0;  ///< device time of the first finding since it (re)opened
    int64_t last_observed_ms = 0;   ///< device time of the latest finding
    int64_t opened_ms = 0;          ///< hub time it opened, or last reopened
    int64_t updated_ms = 0;         ///< hub time of the latest change of evidence or state
    int64_t closed_ms = 0;          ///< hub time it closed by itself; 0 unless closed
    std::string dismissed_reason;   ///< while dismissed, and kept after a reopen for history
    std::string dismissed_by;
    int64_t dismissed_ms = 0;
    std::string dismissed_key;  ///< the evidence key it was dismissed with
};

/// What happened to a recommendation, for live consumers (outputs, the API's event stream).
/// Updated: its evidence key changed while open. Reopened: it was closed, or dismissed and its
/// evidence changed.
enum class RecommendationChange : uint8_t {
    Opened = 0,
    Updated = 1,
    Closed = 2,
    Reopened = 3,
    Dismissed = 4
};
/// "opened", "updated", "closed", "reopened", "dismissed"
const char* to_string(RecommendationChange change);

struct RecommendationEvent {
    RecommendationChange change = RecommendationChange::Opened;
    Recommendation recommendation;  ///< as it is after the change
};

}  // namespace vigil::hub
