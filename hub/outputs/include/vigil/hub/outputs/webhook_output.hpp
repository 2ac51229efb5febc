// The webhook output: each alert event POSTed as JSON, signed with HMAC-SHA256 of the exact body
// (X-Vigil-Signature: sha256=<hex>), with the change (X-Vigil-Event) and a delivery id that stays
// the same across retries (X-Vigil-Delivery). Connection errors, 5xx and 429 are retried with
// doubling backoff; any other answer outside 2xx refuses the event for good.
#pragma once

#include <memory>
#include <string>

#include "vigil/hub/outputs/output.hpp"

namespace vigil::hub::outputs {

/// nullptr and `error` set when the URL cannot be used (not http, or https in a build without
/// OpenSSL in cpp-httplib).
std::unique_ptr<Output> make_webhook_output(const detect::OutputSettings& settings,
                                            std::string& error, OutputLog log = nullptr);

/// "sha256=" and the lowercase hex HMAC-SHA256 of `body` keyed with `secret`.
std::string webhook_signature(const std::string& body, const std::string& secret);

}  // namespace vigil::hub::outputs
