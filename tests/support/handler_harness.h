#pragma once
// Table-driven handler tests. A receive case is a request and what the
// handler must make of it; a send case is a msg, the provider's scripted
// answers, and the requests and result expected. Send cases run against a
// real local HTTP server (MockProvider) through the real HTTP client.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "loopback_client.h"
#include <vector>

#include "handlers/handler.h"
#include "mock_provider.h"

namespace courier::testing {

inline constexpr const char* kTestChannelUUID = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";
inline constexpr const char* kTestBaseUrl = "https://courier.test";

Channel TestChannel(const std::string& type, const std::string& address, const std::string& country,
                    std::map<std::string, std::string> config, std::vector<std::string> schemes = {"tel"});

struct ExpectedMsg {
  std::string urn;
  std::string text;
  std::string external_id;
  std::string contact_name;
  std::vector<std::string> attachments;
  std::optional<Micros> received_on;
  bool no_received_on = false;  // a time no clock could show is dropped
};

struct ExpectedEvent {
  ChannelEventType type;
  std::string urn;
  std::string contact_name;
  std::map<std::string, std::string> extra;
  std::optional<Micros> occurred_on;  // checked when set
};

struct ExpectedStatus {
  MsgStatus status;
  std::optional<int64_t> msg_id;
  std::string external_id;
  std::string msg_uuid;
};

struct ReceiveCase {
  std::string label;
  std::string method = "POST";
  std::string action;        // "receive"
  std::string query;         // "a=1&b=2" (no '?')
  std::string body;
  std::string content_type = "application/x-www-form-urlencoded";
  std::map<std::string, std::string> headers;  // lower-case names
  // expectations
  std::string error;          // substring of the error; "" means success
  bool unauthorized = false;
  std::string ignored;        // substring of the ignore reason
  std::vector<ExpectedMsg> msgs;
  std::vector<ExpectedStatus> statuses;
  std::vector<std::string> stop_urns;
  std::vector<ExpectedEvent> events;  // channel events, in order
  // (urn, auth) of each URN auth update, in order (FCM tokens).
  std::vector<std::pair<std::string, std::string>> urn_auths;
  std::string response_body;  // exact custom body, when the handler writes one
  // Optional hook to prepare the channel or the mock provider.
  std::function<void(Channel&, MockProvider&)> setup;
  // Expected count of requests made while receiving (media lookups), when set.
  // In expected attachments "{{mock}}" stands for the provider's URL.
  std::optional<size_t> extra_logs;
};

// Finds the route for (method, action) and runs the handler; fails the
// test if there is none. Uses `provider` for outgoing calls made while
// receiving (base_url points at it).
void RunReceiveCases(const ChannelHandler& handler, const Channel& channel, const std::vector<ReceiveCase>& cases);

struct ExpectedRequest {
  std::string method = "POST";
  std::string path;                            // exact path
  std::map<std::string, std::string> form;     // each must be present with this value
  std::map<std::string, std::string> params;   // query parameters
  std::map<std::string, std::string> headers;  // lower-case name -> exact value
  std::string body;                            // exact body, when set
  std::vector<std::string> body_contains;
};

struct SendCase {
  std::string label;
  std::string text = "Simple Message";
  std::string urn = "tel:+250788383383";
  std::string urn_auth;  // the msg's URN auth, as a claim gives it (FCM token)
  std::vector<std::string> attachments;
  int64_t msg_id = 10;
  std::vector<std::pair<std::string, MockResponse>> responses;  // path prefix -> answer, in order
  // expectations
  MsgStatus status = MsgStatus::kWired;
  std::string external_id;
  std::string error;  // substring
  bool stop_contact = false;
  std::vector<ExpectedRequest> requests;  // exactly these, in order
  size_t logs = 0;                        // 0: one per request
  std::function<void(Channel&)> setup;
  std::optional<int> throttled_for_seconds;  // checked when set
  std::vector<QuickReply> quick_replies;
  std::optional<MsgTemplate> templating;
  std::string locale;
};

// Points the channel's base_url at a fresh MockProvider per case.
void RunSendCases(const ChannelHandler& handler, const Channel& channel, const std::vector<SendCase>& cases);

}  // namespace courier::testing
