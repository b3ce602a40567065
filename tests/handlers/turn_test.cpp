// TRN — Turn.io: receive (every message type, contacts, duplicates,
// groups, timestamps, senders, statuses), send (On-Premises bodies, split
// text, quick replies, templates with their namespace, error codes,
// throttling), media uploads with their cache, and the media request.
#include "handlers/turn.h"

#include "core/clock.h"
#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kToken = "turn-token-8c1f2e7a9b";
const std::string kApi = "https://whatsapp.turn.io";
const char* kJson = "application/json";
const Micros kDate = 1454119029 * kMicrosPerSecond;

Channel TrnChannel(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> config = {{"auth_token", kToken}, {"base_url", kApi}};
  for (auto& [k, v] : extra) config[k] = v;
  return TestChannel("TRN", "250788383383", "", config, {"whatsapp"});
}

ReceiveCase Json(ReceiveCase c) {
  c.action = "receive";
  c.content_type = kJson;
  return c;
}

// A webhook with one message from 5678, Kerry Fisher in contacts[].
std::string MsgBody(const std::string& fields, const std::string& id = "ext1") {
  return R"({"contacts":[{"profile":{"name":"Kerry Fisher"},"wa_id":"5678"}],"messages":[{"from":"5678","id":")" + id +
         R"(","timestamp":"1454119029",)" + fields + "}]}";
}

std::string StatusBody(const std::string& status, const std::string& extra = "") {
  return R"({"statuses":[{"id":"9712A34B4A8B6AD50F","recipient_id":"16315555555","status":")" + status +
         R"(","timestamp":"1518694700")" + extra + "}]}";
}

TEST(TurnHandler, Basics) {
  TurnHandler h;
  EXPECT_EQ(h.Code(), "TRN");
  EXPECT_EQ(h.Name(), "Turn.io");
  auto routes = h.Routes();
  for (const Route& route : routes) EXPECT_FALSE(h.ReceiveMayCallOut(route));
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].method, "POST");
  EXPECT_EQ(routes[0].action, "receive");
}

TEST(TurnHandler, Receive) {
  TurnHandler h;
  const std::string urn = "whatsapp:5678";
  const std::string media = kApi + "/v1/media/";
  RunReceiveCases(h, TrnChannel(), {
      Json({.label = "text", .body = MsgBody(R"("type":"text","text":{"body":"hello turn"})"),
            .msgs = {{.urn = urn, .text = "hello turn", .external_id = "ext1", .contact_name = "Kerry Fisher",
                      .received_on = kDate}}}),
      Json({.label = "no contacts: no name",
            .body = R"({"messages":[{"from":"5678","id":"e2","timestamp":"1454119029","type":"text","text":{"body":"hi"}}]})",
            .msgs = {{.urn = urn, .text = "hi", .external_id = "e2", .received_on = kDate}}}),
      Json({.label = "a timestamp given as a number",
            .body = R"({"messages":[{"from":"5678","id":"e3","timestamp":1454119029,"type":"text","text":{"body":"hi"}}]})",
            .msgs = {{.urn = urn, .text = "hi", .external_id = "e3", .received_on = kDate}}}),
      Json({.label = "image: caption and media id",
            .body = MsgBody(R"("type":"image","image":{"caption":"my pic","id":"41","mime_type":"image/jpeg","sha256":"x"})"),
            .msgs = {{.urn = urn, .text = "my pic", .external_id = "ext1", .contact_name = "Kerry Fisher",
                      .attachments = {"image/jpeg:" + media + "41"}}}}),
      Json({.label = "video", .body = MsgBody(R"("type":"video","video":{"id":"42","mime_type":"video/mp4"})"),
            .msgs = {{.urn = urn, .text = "", .external_id = "ext1", .contact_name = "Kerry Fisher",
                      .attachments = {"video/mp4:" + media + "42"}}}}),
      Json({.label = "document with caption",
            .body = MsgBody(R"("type":"document","document":{"caption":"the form","filename":"form.pdf","id":"43","mime_type":"application/pdf"})"),
            .msgs = {{.urn = urn, .text = "the form", .external_id = "ext1", .contact_name = "Kerry Fisher",
                      .attachments = {"application/pdf:" + media + "43"}}}}),
      Json({.label = "audio", .body = MsgBody(R"("type":"audio","audio":{"id":"44","mime_type":"audio/mpeg"})"),
            .msgs = {{.urn = urn, .text = "", .external_id = "ext1", .contact_name = "Kerry Fisher",
                      .attachments = {"audio/mpeg:" + media + "44"}}}}),
      Json({.label = "voice: type without parameters",
            .body = MsgBody(R"("type":"voice","voice":{"id":"45","mime_type":"audio/ogg; codecs=opus"})"),
            .msgs = {{.urn = urn, .text = "", .external_id = "ext1", .contact_name = "Kerry Fisher",
                      .attachments = {"audio/ogg:" + media + "45"}}}}),
      Json({.label = "media without a type", .body = MsgBody(R"("type":"image","image":{"id":"46"})"),
            .msgs = {{.urn = urn, .text = "", .external_id = "ext1", .contact_name = "Kerry Fisher",
                      .attachments = {"application/octet-stream:" + media + "46"}}}}),
      Json({.label = "media without an id: the caption alone",
            .body = MsgBody(R"("type":"image","image":{"caption":"lost","mime_type":"image/jpeg"})"),
            .msgs = {{.urn = urn, .text = "lost", .external_id = "ext1", .contact_name = "Kerry Fisher"}}}),
      Json({.label = "button", .body = MsgBody(R"("type":"button","button":{"payload":"p1","text":"No"})"),
            .msgs = {{.urn = urn, .text = "No", .external_id = "ext1", .contact_name = "Kerry Fisher"}}}),
      Json({.label = "interactive button reply",
            .body = MsgBody(R"("type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"0","title":"Yes"}})"),
            .msgs = {{.urn = urn, .text = "Yes", .external_id = "ext1", .contact_name = "Kerry Fisher"}}}),
      Json({.label = "interactive list reply",
            .body = MsgBody(R"("type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"1","title":"Row 2","description":"d"}})"),
            .msgs = {{.urn = urn, .text = "Row 2", .external_id = "ext1", .contact_name = "Kerry Fisher"}}}),
      Json({.label = "flow reply: its body",
            .body = MsgBody(R"("type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":"{\"a\":1}"}})"),
            .msgs = {{.urn = urn, .text = "Sent", .external_id = "ext1", .contact_name = "Kerry Fisher"}}}),
      Json({.label = "other interactive: ignored",
            .body = MsgBody(R"("type":"interactive","interactive":{"type":"product_reply"})"),
            .ignored = "ignoring interactive reply of type 'product_reply'"}),
      Json({.label = "location", .body = MsgBody(R"("type":"location","location":{"latitude":0.3476,"longitude":32.5825})"),
            .msgs = {{.urn = urn, .text = "0.3476,32.5825", .external_id = "ext1", .contact_name = "Kerry Fisher",
                      .attachments = {"geo:0.3476,32.5825"}}}}),
      Json({.label = "location without coordinates",
            .body = MsgBody(R"("type":"location","location":{"name":"x"})"),
            .error = "field 'messages.location.latitude' required"}),
      Json({.label = "unknown type: ignored, errors only logged",
            .body = MsgBody(R"("type":"unknown","errors":[{"code":501,"details":"Message type is not currently supported","title":"Unsupported message type"}])"),
            .ignored = "ignoring message of type 'unknown'"}),
      Json({.label = "the same id twice: written once",
            .body = R"({"messages":[{"from":"5678","id":"d1","timestamp":"1454119029","type":"text","text":{"body":"a"}},)"
                    R"({"from":"5678","id":"d1","timestamp":"1454119029","type":"text","text":{"body":"a"}},)"
                    R"({"from":"5678","id":"d2","timestamp":"1454119029","type":"text","text":{"body":"b"}}]})",
            .msgs = {{.urn = urn, .text = "a", .external_id = "d1"}, {.urn = urn, .text = "b", .external_id = "d2"}}}),
      Json({.label = "group message: ignored",
            .body = MsgBody(R"("group_id":"120363","type":"text","text":{"body":"hi all"})"), .ignored = "ignoring group message"}),
      Json({.label = "a group message beside another: the other taken",
            .body = R"({"messages":[{"from":"5678","id":"g1","group_id":"120363","timestamp":"1454119029","type":"text","text":{"body":"a"}},)"
                    R"({"from":"5678","id":"g2","timestamp":"1454119029","type":"text","text":{"body":"b"}}]})",
            .msgs = {{.urn = urn, .text = "b", .external_id = "g2"}}}),
      Json({.label = "from_bsuid when there is no from, named by user_id",
            .body = R"({"contacts":[{"profile":{"name":"Ann"},"user_id":"987654"}],)"
                    R"("messages":[{"from_bsuid":"987654","id":"b1","timestamp":"1454119029","type":"text","text":{"body":"hi"}}]})",
            .msgs = {{.urn = "whatsapp:987654", .text = "hi", .external_id = "b1", .contact_name = "Ann"}}}),
      // A user who hides their number behind a username is known by a
      // business-scoped user id alone.
      Json({.label = "a BSUID sender",
            .body = R"({"messages":[{"from_bsuid":"US.13491208655302741918","id":"b2","timestamp":"1454119029","type":"text","text":{"body":"hi"}}]})",
            .msgs = {{.urn = "whatsapp:US.13491208655302741918", .text = "hi", .external_id = "b2"}}}),
      Json({.label = "invalid sender", .body = R"({"messages":[{"from":"notnumeric","id":"x","timestamp":"1454119029","type":"text","text":{"body":"hi"}}]})",
            .error = "invalid whatsapp id"}),
      Json({.label = "no sender", .body = R"({"messages":[{"id":"x","timestamp":"1454119029","type":"text","text":{"body":"hi"}}]})",
            .error = "invalid whatsapp id"}),
      Json({.label = "invalid timestamp",
            .body = R"({"messages":[{"from":"5678","id":"x","timestamp":"2016-01-30","type":"text","text":{"body":"hi"}}]})",
            .error = "invalid timestamp: 2016-01-30"}),
      Json({.label = "invalid timestamp fails the whole webhook",
            .body = R"({"messages":[{"from":"5678","id":"t1","timestamp":"1454119029","type":"text","text":{"body":"a"}},)"
                    R"({"from":"5678","id":"t2","timestamp":"soon","type":"text","text":{"body":"b"}}]})",
            .error = "invalid timestamp: soon"}),
      Json({.label = "no timestamp", .body = R"({"messages":[{"from":"5678","id":"x","type":"text","text":{"body":"hi"}}]})",
            .error = "field 'messages.timestamp' required"}),
      Json({.label = "no id", .body = R"({"messages":[{"from":"5678","timestamp":"1454119029","type":"text","text":{"body":"hi"}}]})",
            .error = "field 'messages.id' required"}),
      Json({.label = "nothing in it", .body = "{}", .ignored = "no messages or statuses"}),
      Json({.label = "not JSON", .body = "not json", .error = "unable to parse request JSON"}),
  });
}

TEST(TurnHandler, Statuses) {
  TurnHandler h;
  const std::string id = "9712A34B4A8B6AD50F";
  RunReceiveCases(h, TrnChannel(), {
      Json({.label = "sending", .body = StatusBody("sending"), .statuses = {{.status = MsgStatus::kWired, .external_id = id}}}),
      Json({.label = "sent", .body = StatusBody("sent"), .statuses = {{.status = MsgStatus::kSent, .external_id = id}}}),
      Json({.label = "delivered", .body = StatusBody("delivered"),
            .statuses = {{.status = MsgStatus::kDelivered, .external_id = id}}}),
      Json({.label = "read", .body = StatusBody("read"), .statuses = {{.status = MsgStatus::kRead, .external_id = id}}}),
      Json({.label = "failed with errors", .body = StatusBody("failed", R"(,"errors":[{"code":470,"title":"Message failed to send because more than 24 hours have passed"}])"),
            .statuses = {{.status = MsgStatus::kFailed, .external_id = id}}}),
      Json({.label = "deleted: ignored", .body = StatusBody("deleted"), .ignored = "ignoring status: deleted"}),
      Json({.label = "unknown: ignored", .body = StatusBody("in_orbit"), .ignored = "unknown status: in_orbit"}),
      Json({.label = "an unknown status beside a msg and a status",
            .body = R"({"messages":[{"from":"5678","id":"m1","timestamp":"1454119029","type":"text","text":{"body":"x"}}],)"
                    R"("statuses":[{"id":"A","status":"bogus"},{"id":"B","status":"read"}]})",
            .msgs = {{.urn = "whatsapp:5678", .text = "x", .external_id = "m1"}},
            .statuses = {{.status = MsgStatus::kRead, .external_id = "B"}}}),
      Json({.label = "no id", .body = R"({"statuses":[{"status":"sent"}]})", .error = "field 'statuses.id' required"}),
      Json({.label = "no status", .body = R"({"statuses":[{"id":"x"}]})", .error = "field 'statuses.status' required"}),
  });
}

// A failed status keeps Turn's error as the reason.
TEST(TurnHandler, FailedStatusReason) {
  TurnHandler h;
  Channel channel = TrnChannel();
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  auto request = WebhookRequest::Build(
      "POST", "/c/trn/" + channel.uuid + "/receive", {{"content-type", kJson}},
      StatusBody("failed", R"(,"errors":[{"code":131026,"title":"Message undeliverable","details":"not on WhatsApp"}])"),
      kTestBaseUrl, "receive");
  auto r = h.Receive(h.Routes()[0], channel, request, ctx);
  ASSERT_EQ(r.statuses.size(), 1u);
  EXPECT_EQ(r.statuses[0].error_reason, "Message undeliverable: not on WhatsApp (code 131026)");
}

// Media attachments hang off base_url, which a channel made without one
// lacks.
TEST(TurnHandler, MediaNeedsBaseUrl) {
  TurnHandler h;
  Channel channel = TrnChannel();
  channel.config.erase("base_url");
  RunReceiveCases(h, channel, {
      Json({.label = "media", .body = MsgBody(R"("type":"image","image":{"id":"41"})"),
            .error = "no base_url set for TRN channel"}),
      Json({.label = "text still taken", .body = MsgBody(R"("type":"text","text":{"body":"hi"})"),
            .msgs = {{.urn = "whatsapp:5678", .text = "hi", .external_id = "ext1", .contact_name = "Kerry Fisher"}}}),
  });
}

TEST(TurnHandler, WebhookToken) {
  TurnHandler h;
  RunReceiveCases(h, TrnChannel({{"webhook_token", kWebhookToken}}),
                  WebhookTokenCases(Json({.label = "text", .body = MsgBody(R"("type":"text","text":{"body":"hi"})"),
                                          .msgs = {{.urn = "whatsapp:5678", .text = "hi", .external_id = "ext1",
                                                    .contact_name = "Kerry Fisher", .received_on = kDate}}})));
}

// ---- send -------------------------------------------------------------------

MockResponse Ok(const std::string& id) { return {.body = R"({"messages":[{"id":")" + id + R"("}]})"}; }

MockResponse TurnErrors(int status, int code, const std::string& title) {
  return {.status = status,
          .body = R"({"errors":[{"code":)" + std::to_string(code) + R"(,"title":")" + title + R"(","details":"see docs"}],"meta":{"api_status":"stable","version":"2.35.4"}})"};
}

MockResponse GraphError(int status, int code, const std::string& message) {
  return {.status = status, .body = R"({"error":{"code":)" + std::to_string(code) + R"(,"message":")" + message + R"("}})"};
}

std::string TextBody(const std::string& text, bool preview = false) {
  return R"({"to":"250788383383","type":"text",)" + std::string(preview ? R"("preview_url":true,)" : "") +
         R"("text":{"body":")" + text + R"("}})";
}

TEST(TurnHandler, Send) {
  TurnHandler h;
  const std::string urn = "whatsapp:250788383383";
  const std::map<std::string, std::string> headers = {
      {"authorization", "Bearer " + kToken}, {"content-type", "application/json"}, {"accept", "application/json"}};
  const std::string long_text = std::string(4000, 'a') + " " + std::string(200, 'b');
  const std::string path = "/v1/messages";
  RunSendCases(h, TrnChannel(), {
      {.label = "text", .urn = urn, .responses = {{path, Ok("157b5e14568e8")}}, .external_id = "157b5e14568e8",
       .requests = {{.path = path, .headers = headers, .body = TextBody("Simple Message")}}},
      {.label = "a link: preview_url", .text = "see https://turn.io", .urn = urn, .responses = {{path, Ok("w2")}},
       .external_id = "w2", .requests = {{.path = path, .body = TextBody("see https://turn.io", true)}}},
      {.label = "unicode", .text = "Muraho ☺", .urn = urn, .responses = {{path, Ok("w3")}}, .external_id = "w3",
       .requests = {{.path = path, .body = TextBody("Muraho ☺")}}},
      {.label = "a path in base_url is dropped", .urn = urn, .responses = {{path, Ok("w4")}}, .external_id = "w4",
       .requests = {{.path = path}}, .setup = [](Channel& c) { c.config["base_url"] = "{{mock}}/api/turn/"; }},
      {.label = "long text split at 4096, first id kept", .text = long_text, .urn = urn,
       .responses = {{path, Ok("w10")}, {path, Ok("w11")}}, .external_id = "w10",
       .requests = {{.path = path, .body = TextBody(std::string(4000, 'a'))},
                    {.path = path, .body = TextBody(std::string(200, 'b'))}}},
      {.label = "max_length", .text = "Hello wide world", .urn = urn, .responses = {{path, Ok("w12")}, {path, Ok("w13")}},
       .external_id = "w12", .requests = {{.path = path, .body = TextBody("Hello wide")}, {.path = path, .body = TextBody("world")}},
       .setup = [](Channel& c) { c.config["max_length"] = "10"; }},
      {.label = "a business-scoped user id goes in recipient", .urn = "whatsapp:US.13491208655302741918",
       .responses = {{path, Ok("w14")}}, .external_id = "w14",
       .requests = {{.path = path, .body = R"({"recipient":"US.13491208655302741918","type":"text","text":{"body":"Simple Message"}})"}}},
      {.label = "quick replies: reply buttons", .text = "Pick one", .urn = urn, .responses = {{path, Ok("w15")}},
       .external_id = "w15",
       .requests = {{.path = path,
                     .body = R"({"to":"250788383383","type":"interactive","interactive":{"type":"button","body":{"text":"Pick one"},)"
                             R"("action":{"buttons":[{"type":"reply","reply":{"id":"0","title":"Yes"}},{"type":"reply","reply":{"id":"1","title":"No"}}]}}})"}},
       .quick_replies = {"Yes", "No"}},
      {.label = "template with its namespace", .urn = urn, .responses = {{path, Ok("w20")}}, .external_id = "w20",
       .requests = {{.path = path,
                     .body = R"({"to":"250788383383","type":"template","template":{"namespace":"ns-tmpl","name":"welcome",)"
                             R"("language":{"policy":"deterministic","code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"Jane"}]}]}})"}},
       .setup = [](Channel& c) { c.config["fb_namespace"] = "ns-config"; },
       .templating = MsgTemplate{.name = "welcome", .name_space = "ns-tmpl", .components = {{.type = "body", .params = {{"text", "Jane", ""}}}}},
       .locale = "en-US"},
      {.label = "template: the channel's namespace", .urn = urn, .responses = {{path, Ok("w21")}}, .external_id = "w21",
       .requests = {{.path = path,
                     .body = R"({"to":"250788383383","type":"template","template":{"namespace":"ns-config","name":"welcome",)"
                             R"("language":{"policy":"deterministic","code":"rw"}}})"}},
       .setup = [](Channel& c) { c.config["fb_namespace"] = "ns-config"; },
       .templating = MsgTemplate{.name = "welcome", .language = "rw"}},
      {.label = "template without a namespace", .urn = urn, .responses = {{path, Ok("w22")}}, .external_id = "w22",
       .requests = {{.path = path,
                     .body = R"({"to":"250788383383","type":"template","template":{"name":"welcome",)"
                             R"("language":{"policy":"deterministic","code":"rw"}}})"}},
       .templating = MsgTemplate{.name = "welcome", .language = "rw"}},
      {.label = "template without a language: failed unsent", .urn = urn, .status = MsgStatus::kFailed,
       .error = "has no language", .requests = {}, .logs = 1, .templating = MsgTemplate{.name = "welcome"}},
      {.label = "nothing to send", .text = "", .urn = urn, .status = MsgStatus::kFailed, .requests = {}, .logs = 1},
      // Answers.
      {.label = "no id: W without one", .urn = urn, .responses = {{path, {.body = R"({"messages":[]})"}}},
       .requests = {{.path = path}}},
      {.label = "not JSON: failed", .urn = urn, .responses = {{path, {.body = "ok", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "unable to parse response body", .requests = {{.path = path}}},
      {.label = "a 4xx that is not JSON: failed", .urn = urn,
       .responses = {{path, {.status = 401, .body = "Unauthorized", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 401", .requests = {{.path = path}}},
      {.label = "a 4xx without an error in it: failed", .urn = urn, .responses = {{path, {.status = 404, .body = "{}"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 404", .requests = {{.path = path}}},
      {.label = "errors[]: failed with Turn's title", .urn = urn,
       .responses = {{path, TurnErrors(400, 1008, "Required parameter is missing")}}, .status = MsgStatus::kFailed,
       .error = "received error from turn: Required parameter is missing: see docs (code 1008)", .requests = {{.path = path}}},
      {.label = "error object: failed", .urn = urn, .responses = {{path, GraphError(400, 131047, "Re-engagement message")}},
       .status = MsgStatus::kFailed, .error = "Re-engagement message (code 131047)", .requests = {{.path = path}}},
      {.label = "an error in a 200: failed", .urn = urn, .responses = {{path, TurnErrors(200, 131026, "Message undeliverable")}},
       .status = MsgStatus::kFailed, .error = "Message undeliverable", .requests = {{.path = path}}},
      {.label = "media upload error (131053): errored", .urn = urn,
       .responses = {{path, TurnErrors(400, 131053, "Media upload error")}}, .status = MsgStatus::kErrored,
       .error = "Media upload error", .requests = {{.path = path}}},
      {.label = "pair rate limit (131056): throttled 6 s", .urn = urn,
       .responses = {{path, TurnErrors(400, 131056, "Pair rate limit hit")}}, .status = MsgStatus::kErrored,
       .requests = {{.path = path}}, .throttled_for_seconds = 6},
      {.label = "throughput (130429): throttled 1 s", .urn = urn,
       .responses = {{path, GraphError(400, 130429, "Rate limit hit")}}, .status = MsgStatus::kErrored,
       .requests = {{.path = path}}, .throttled_for_seconds = 1},
      {.label = "spam rate limit (131048): throttled a minute", .urn = urn,
       .responses = {{path, TurnErrors(400, 131048, "Spam rate limit hit")}}, .status = MsgStatus::kErrored,
       .requests = {{.path = path}}, .throttled_for_seconds = 60},
      {.label = "business account limit (80007)", .urn = urn, .responses = {{path, GraphError(400, 80007, "limit")}},
       .status = MsgStatus::kErrored, .requests = {{.path = path}}, .throttled_for_seconds = 60},
      {.label = "app limit (4)", .urn = urn, .responses = {{path, GraphError(400, 4, "limit")}},
       .status = MsgStatus::kErrored, .requests = {{.path = path}}, .throttled_for_seconds = 60},
      {.label = "registration limit (133016)", .urn = urn, .responses = {{path, TurnErrors(400, 133016, "limit")}},
       .status = MsgStatus::kErrored, .requests = {{.path = path}}, .throttled_for_seconds = 60},
      {.label = "Turn's own code 429, Retry-After", .urn = urn,
       .responses = {{path, {.status = 400, .body = R"({"errors":[{"code":429,"title":"Too many requests"}]})",
                             .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .requests = {{.path = path}}, .throttled_for_seconds = 7},
      {.label = "HTTP 429 with Retry-After", .urn = urn,
       .responses = {{path, {.status = 429, .body = "{}", .headers = {{"Retry-After", "12"}}}}},
       .status = MsgStatus::kErrored, .requests = {{.path = path}}, .throttled_for_seconds = 12},
      {.label = "server error: errored, whatever the body", .urn = urn,
       .responses = {{path, TurnErrors(500, 1008, "oops")}}, .status = MsgStatus::kErrored,
       .error = "received non 200 status: 500", .requests = {{.path = path}}},
      {.label = "the second part fails: the first id kept in the logs, F", .text = "Hello wide world", .urn = urn,
       .responses = {{path, Ok("w30")}, {path, TurnErrors(400, 1008, "bad")}}, .status = MsgStatus::kFailed,
       .requests = {{.path = path}, {.path = path}}, .setup = [](Channel& c) { c.config["max_length"] = "10"; }},
      // Config.
      {.label = "no auth_token: errored, no request", .urn = urn, .status = MsgStatus::kErrored,
       .error = "no auth_token set for TRN channel", .logs = 1, .setup = [](Channel& c) { c.config.erase("auth_token"); }},
      {.label = "no base_url: errored, no request", .urn = urn, .status = MsgStatus::kErrored,
       .error = "no base_url set for TRN channel", .logs = 1, .setup = [](Channel& c) { c.config.erase("base_url"); }},
      {.label = "base_url not a URL: errored, no request", .urn = urn, .status = MsgStatus::kErrored,
       .error = "not an http(s) URL", .logs = 1, .setup = [](Channel& c) { c.config["base_url"] = "whatsapp.turn.io"; }},
  });
}

// ---- media uploads ------------------------------------------------------------

const std::string kJpeg("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
const std::string kPng("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00", 29);
const std::string kPdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\n";

MockResponse Uploaded(const std::string& id) { return {.body = R"({"media":[{"id":")" + id + R"("}]})"}; }

// Sends on `channel` (base_url at `provider`) with `clock`, attachment
// URLs written "{{mock}}/..." pointing at the provider too.
class MediaSend {
 public:
  MediaSend() : clock_(1700000000LL * kMicrosPerSecond) { channel_.config["base_url"] = provider_.url(); }

  SendResult Send(const std::string& text, const std::vector<std::string>& attachments,
                  const std::string& channel_uuid = kTestChannelUUID) {
    Msg msg;
    msg.id = 10;
    msg.channel_uuid = channel_uuid;
    msg.direction = Direction::kOut;
    msg.urn = "whatsapp:250788383383";
    msg.text = text;
    for (std::string a : attachments) {
      const size_t at = a.find("{{mock}}");
      if (at != std::string::npos) a.replace(at, 8, provider_.url());
      msg.attachments.push_back(a);
    }
    Channel channel = channel_;
    channel.uuid = channel_uuid;
    auto http = NewLoopbackHttpClient();
    HandlerContext ctx{*http, clock_, kTestBaseUrl};
    SendResult r = handler_.Send(channel, msg, ctx);
    for (const auto& log : r.logs) {
      EXPECT_EQ(log.request.find(kToken), std::string::npos) << "token in a log";
      EXPECT_EQ(log.request.find("JFIF"), std::string::npos) << "media bytes in a log request";
      EXPECT_EQ(log.response.find("JFIF"), std::string::npos) << "media bytes in a log response";
    }
    return r;
  }
  // The requests since the last call, as "METHOD path".
  std::vector<std::string> Requests() {
    std::vector<std::string> out;
    auto all = provider_.requests();
    for (size_t i = seen_; i < all.size(); ++i) out.push_back(all[i].method + " " + all[i].path);
    seen_ = all.size();
    return out;
  }
  RecordedRequest Last(size_t back = 0) {
    auto all = provider_.requests();
    return all.at(all.size() - 1 - back);
  }

  MockProvider provider_;
  ManualClock clock_;
  TurnHandler handler_;
  Channel channel_ = TrnChannel();

 private:
  size_t seen_ = 0;
};

using Requests = std::vector<std::string>;

TEST(TurnHandler, SendsMediaById) {
  MediaSend s;
  s.provider_.On("/files/cat.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On("/v1/media", Uploaded("f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68"));
  s.provider_.On("/v1/messages", Ok("w1"));
  SendResult r = s.Send("My pic!", {"image/jpeg:{{mock}}/files/cat.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kWired)) << r.error;
  EXPECT_EQ(r.external_id, "w1");
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/cat.jpg", "POST /v1/media", "POST /v1/messages"}));
  ASSERT_EQ(r.logs.size(), 3u);
  EXPECT_EQ(r.logs[0].description, "Media Download");
  EXPECT_NE(r.logs[0].response.find("[20 bytes of image/jpeg]"), std::string::npos) << r.logs[0].response;
  EXPECT_EQ(r.logs[1].description, "Media Upload");
  EXPECT_NE(r.logs[1].request.find("[20 bytes of image/jpeg]"), std::string::npos) << r.logs[1].request;

  RecordedRequest upload = s.Last(1);
  EXPECT_EQ(upload.headers["authorization"], "Bearer " + kToken);
  EXPECT_EQ(upload.headers["content-type"], "image/jpeg");
  EXPECT_EQ(upload.body, kJpeg);
  EXPECT_EQ(s.Last().body,
            R"({"to":"250788383383","type":"image","image":{"id":"f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68","caption":"My pic!"}})");

  // The id is kept for the channel and URL: no second upload.
  s.provider_.On("/v1/messages", Ok("w2"));
  r = s.Send("again", {"image/jpeg:{{mock}}/files/cat.jpg"});
  EXPECT_EQ(r.external_id, "w2");
  EXPECT_EQ(s.Requests(), (Requests{"POST /v1/messages"}));
  EXPECT_NE(s.Last().body.find(R"("image":{"id":"f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68","caption":"again"})"),
            std::string::npos);

  // Another channel uploads its own.
  s.provider_.On("/files/cat.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On("/v1/media", Uploaded("other-channel-id"));
  s.provider_.On("/v1/messages", Ok("w3"));
  r = s.Send("", {"image/jpeg:{{mock}}/files/cat.jpg"}, "0f7a8a4c-1111-4b6f-9c3c-2b0e9c7d1a55");
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/cat.jpg", "POST /v1/media", "POST /v1/messages"}));
  EXPECT_NE(s.Last().body.find(R"("id":"other-channel-id")"), std::string::npos);

  // For 24 hours.
  s.clock_.Advance(24LL * 3600 * kMicrosPerSecond);
  s.provider_.On("/files/cat.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On("/v1/media", Uploaded("new-id"));
  s.provider_.On("/v1/messages", Ok("w4"));
  r = s.Send("", {"image/jpeg:{{mock}}/files/cat.jpg"});
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/cat.jpg", "POST /v1/media", "POST /v1/messages"}));
  EXPECT_EQ(s.Last().body, R"({"to":"250788383383","type":"image","image":{"id":"new-id"}})");
}

TEST(TurnHandler, MediaTypesAndOrder) {
  MediaSend s;
  // The type read from the bytes wins over the one the msg says.
  s.provider_.On("/files/a.jpg", {.body = kPng, .content_type = "image/jpeg"});
  s.provider_.On("/v1/media", Uploaded("png-id"));
  s.provider_.On("/files/report.pdf", {.body = kPdf, .content_type = "application/octet-stream"});
  s.provider_.On("/v1/media", Uploaded("pdf-id"));
  s.provider_.On("/v1/messages", Ok("w1"));
  s.provider_.On("/v1/messages", Ok("w2"));
  s.provider_.On("/v1/messages", Ok("w3"));
  SendResult r = s.Send("two files", {"image/jpeg:{{mock}}/files/a.jpg", "application/pdf:{{mock}}/files/report.pdf?v=2"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kWired)) << r.error;
  EXPECT_EQ(r.external_id, "w1");
  auto all = s.provider_.requests();
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all[1].headers["content-type"], "image/png");
  EXPECT_EQ(all[3].headers["content-type"], "application/pdf");
  // Attachments first (more than one: no caption), then the text.
  EXPECT_EQ(all[4].body, R"({"to":"250788383383","type":"image","image":{"id":"png-id"}})");
  EXPECT_EQ(all[5].body, R"({"to":"250788383383","type":"document","document":{"id":"pdf-id","filename":"report.pdf"}})");
  EXPECT_EQ(all[6].body, R"({"to":"250788383383","type":"text","text":{"body":"two files"}})");
}

TEST(TurnHandler, AudioTakesNoCaption) {
  MediaSend s;
  s.provider_.On("/files/a.mp3", {.body = "ID3\x03\x00\x00\x00\x00\x00\x00", .content_type = "audio/mpeg"});
  s.provider_.On("/v1/media", Uploaded("audio-id"));
  s.provider_.On("/v1/messages", Ok("w1"));
  s.provider_.On("/v1/messages", Ok("w2"));
  SendResult r = s.Send("listen", {"audio/mpeg:{{mock}}/files/a.mp3"});
  EXPECT_EQ(r.external_id, "w1");
  auto all = s.provider_.requests();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[2].body, R"({"to":"250788383383","type":"audio","audio":{"id":"audio-id"}})");
  EXPECT_EQ(all[3].body, R"({"to":"250788383383","type":"text","text":{"body":"listen"}})");
}

TEST(TurnHandler, FailedUploadsAreKeptForAQuarterHour) {
  MediaSend s;
  s.provider_.On("/files/gone.jpg", {.status = 404, .body = "not found", .content_type = "text/plain"});
  SendResult r = s.Send("pic", {"image/jpeg:{{mock}}/files/gone.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kErrored));
  EXPECT_NE(r.error.find("error downloading media"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("received non 200 status: 404"), std::string::npos) << r.error;
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/gone.jpg"}));
  EXPECT_EQ(r.logs.size(), 1u);

  // Within 15 minutes: E at once, no request, one log.
  s.clock_.Advance(14 * 60 * kMicrosPerSecond);
  r = s.Send("pic", {"image/jpeg:{{mock}}/files/gone.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kErrored));
  EXPECT_NE(r.error.find("kept from an earlier attempt"), std::string::npos) << r.error;
  EXPECT_TRUE(s.Requests().empty());
  EXPECT_EQ(r.logs.size(), 1u);

  // Then tried again.
  s.clock_.Advance(61 * kMicrosPerSecond);
  s.provider_.On("/files/gone.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On("/v1/media", Uploaded("back-id"));
  s.provider_.On("/v1/messages", Ok("w1"));
  r = s.Send("pic", {"image/jpeg:{{mock}}/files/gone.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kWired)) << r.error;
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/gone.jpg", "POST /v1/media", "POST /v1/messages"}));
}

TEST(TurnHandler, UploadFailures) {
  MediaSend s;
  s.provider_.On("/files/a.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On("/v1/media", {.body = R"({"media":[]})"});
  SendResult r = s.Send("pic", {"image/jpeg:{{mock}}/files/a.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kErrored));
  EXPECT_NE(r.error.find("error uploading media"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("no 'media[0].id' in response"), std::string::npos) << r.error;
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/a.jpg", "POST /v1/media"}));
  EXPECT_EQ(r.logs.size(), 2u);

  s.provider_.On("/files/b.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On("/v1/media", TurnErrors(500, 1000, "Generic error"));
  r = s.Send("pic", {"image/jpeg:{{mock}}/files/b.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kErrored));
  EXPECT_NE(r.error.find("received non 200 status: 500"), std::string::npos) << r.error;
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/b.jpg", "POST /v1/media"}));
}

// A template goes alone: its attachments are not uploaded.
TEST(TurnHandler, TemplateUploadsNothing) {
  MediaSend s;
  s.provider_.On("/v1/messages", Ok("w1"));
  Msg msg;
  msg.id = 10;
  msg.direction = Direction::kOut;
  msg.urn = "whatsapp:250788383383";
  msg.attachments = {"image/jpeg:https://example.com/never.jpg"};
  msg.templating = MsgTemplate{.name = "welcome", .language = "en"};
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, s.clock_, kTestBaseUrl};
  SendResult r = s.handler_.Send(s.channel_, msg, ctx);
  EXPECT_EQ(r.external_id, "w1") << r.error;
  EXPECT_EQ(s.Requests(), (Requests{"POST /v1/messages"}));
}

// courier-fetch downloads <base_url>/v1/media/<id> with the token, and
// nothing else with it.
TEST(TurnHandler, MediaRequest) {
  TurnHandler h;
  Channel channel = TrnChannel();
  auto auth = [&](const std::string& url) {
    HttpRequestSpec req = h.MediaRequest(channel, url);
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.url, url);
    for (const auto& [k, v] : req.headers)
      if (k == "Authorization") return v;
    return std::string();
  };
  EXPECT_EQ(auth(kApi + "/v1/media/41"), "Bearer " + kToken);
  EXPECT_EQ(auth("https://evil.example/v1/media/41"), "");
  EXPECT_EQ(auth("https://whatsapp.turn.io.evil.example/v1/media/41"), "");
  EXPECT_EQ(auth("http://whatsapp.turn.io/v1/media/41"), "");  // not in the clear
  channel.config["base_url"] = "http://127.0.0.1:8080/api";
  EXPECT_EQ(auth("http://127.0.0.1:8080/v1/media/41"), "Bearer " + kToken);
  EXPECT_EQ(auth("http://127.0.0.1:9090/v1/media/41"), "");
  channel.config.erase("auth_token");
  EXPECT_EQ(auth("http://127.0.0.1:8080/v1/media/41"), "");
}

}  // namespace
