#pragma once
// The rows every type with a webhook_token setting (handlers::
// CheckWebhookToken) is held to, made from one webhook the type takes:
// the token as a query parameter, as the basic auth password and as a
// bearer token passes and yields what `taken` expects; none, a wrong one,
// the right one under another parameter name or the user name of basic
// auth is 401 with nothing produced. Run them on a channel whose
// webhook_token is kWebhookToken.
#include <string>
#include <vector>

#include "handler_harness.h"
#include "util/hmac.h"

namespace courier::testing {

inline const std::string kWebhookToken = "wh-7Hq2mZ9xK4pL";

inline std::vector<ReceiveCase> WebhookTokenCases(const ReceiveCase& taken) {
  auto with_query = [&](const std::string& label, const std::string& param) {
    ReceiveCase c = taken;
    c.label = taken.label + ": " + label;
    c.query += (c.query.empty() ? "" : "&") + param;
    return c;
  };
  auto with_header = [&](const std::string& label, const std::string& authorization) {
    ReceiveCase c = taken;
    c.label = taken.label + ": " + label;
    c.headers["authorization"] = authorization;
    return c;
  };
  auto refused = [](ReceiveCase c, const std::string& error) {
    c.error = error;
    c.unauthorized = true;
    c.ignored.clear();
    c.msgs.clear();
    c.statuses.clear();
    c.stop_urns.clear();
    c.response_body.clear();
    return c;
  };
  return {
      with_query("token in the query", "webhook_token=" + kWebhookToken),
      with_header("token as basic auth password", "Basic " + Base64Encode("courier:" + kWebhookToken)),
      with_header("token as bearer", "Bearer " + kWebhookToken),
      refused(with_query("no token", ""), "missing webhook token"),
      refused(with_query("forged token", "webhook_token=wh-7Hq2mZ9xK4pM"), "invalid webhook token"),
      refused(with_query("a prefix of the token", "webhook_token=wh-7Hq2"), "invalid webhook token"),
      refused(with_query("under another name", "token=" + kWebhookToken), "missing webhook token"),
      refused(with_header("token as basic auth user", "Basic " + Base64Encode(kWebhookToken + ":x")),
              "invalid webhook token"),
      refused(with_header("forged bearer", "Bearer wh-7Hq2mZ9xK4pM"), "invalid webhook token"),
  };
}

}  // namespace courier::testing
