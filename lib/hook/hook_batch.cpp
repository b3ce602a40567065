#include "hook/hook_batch.h"

#include <algorithm>

#include "core/json.h"
#include "core/json_writer.h"
#include "hook/hook_signature.h"
#include "util/hmac.h"

namespace courier {
namespace {

// courier's namespace for name-based event uuids (a fixed v4 uuid; never
// change it: applications dedupe on what it yields).
constexpr unsigned char kEventNamespace[16] = {0x6f, 0x1c, 0x3b, 0x52, 0x8e, 0x0a, 0x4d, 0x27,
                                               0x9b, 0x41, 0x5a, 0xc3, 0x07, 0xe2, 0x19, 0xd8};

bool IsRapidProTopic(const std::string& topic) { return topic == "msg.received" || topic == "contact.stopped"; }

}  // namespace

bool HookWants(const Hook& hook, const Event& event) {
  if (hook.format == "rapidpro" && !IsRapidProTopic(event.topic)) return false;
  if (!hook.topics.empty() && std::find(hook.topics.begin(), hook.topics.end(), event.topic) == hook.topics.end())
    return false;
  if (hook.channel_uuid.empty()) return true;
  auto payload = json::ParseObject(event.payload);
  return payload.ok() && json::GetString(*payload, "channel_uuid").value_or("") == hook.channel_uuid;
}

std::string HookEventUUID(int64_t seq) {
  std::string name(reinterpret_cast<const char*>(kEventNamespace), sizeof kEventNamespace);
  name += "courier-event:" + std::to_string(seq);
  std::string hash = Digest(DigestAlgorithm::kSha1, name).substr(0, 16);
  hash[6] = static_cast<char>((hash[6] & 0x0f) | 0x50);  // version 5
  hash[8] = static_cast<char>((hash[8] & 0x3f) | 0x80);  // RFC 9562 variant
  const std::string hex = HexEncode(hash);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

HookBatch NextHookBatch(const Hook& hook, const std::vector<Event>& events, size_t first) {
  HookBatch batch;
  const size_t most = hook.format == "rapidpro" ? 1 : static_cast<size_t>(std::max(1, hook.batch_size));
  size_t i = first;
  for (; i < events.size() && batch.events.size() < most; ++i) {
    const Event& e = events[i];
    if (HookWants(hook, e)) batch.events.push_back(&e);
    batch.through_seq = e.seq;
  }
  batch.next = i;
  return batch;
}

std::string HookJsonBody(const std::vector<const Event*>& batch) {
  JsonWriter w;
  w.BeginArray();
  for (const Event* e : batch) {
    w.BeginObject();
    w.Field("seq", e->seq);
    w.Field("uuid", HookEventUUID(e->seq));
    w.Field("topic", e->topic);
    w.Key("created_on").Time(e->created_on);
    w.Key("data").Raw(e->payload.empty() ? std::string_view("{}") : std::string_view(e->payload));
    w.EndObject();
  }
  w.EndArray();
  return w.Take();
}

Result<HttpRequestSpec> HookRequest(const Hook& hook, const std::vector<const Event*>& batch, int64_t unix_seconds) {
  HttpRequestSpec req;
  req.method = "POST";
  req.url = hook.url;
  if (hook.format == "rapidpro") {
    if (batch.size() != 1) return Status::InvalidArgument("a rapidpro hook posts one event at a time");
    const Event& e = *batch.front();
    auto payload = json::ParseObject(e.payload);
    if (!payload.ok()) return Status::InvalidArgument("event " + std::to_string(e.seq) + ": payload is not JSON");
    const bool msg = e.topic == "msg.received";
    auto id = json::GetInt(*payload, msg ? "msg_id" : "contact_id");
    if (!id) {
      return Status::InvalidArgument("event " + std::to_string(e.seq) + " (" + e.topic + ") has no " +
                                     (msg ? "msg_id" : "contact_id"));
    }
    req.body = msg ? FormEncode({{"action", "handle_message"}, {"message_id", std::to_string(*id)}})
                   : FormEncode({{"action", "stop_contact"}, {"contact_id", std::to_string(*id)}});
    req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    if (!hook.auth_token.empty()) req.headers.push_back({"Authorization", "Token " + hook.auth_token});
  } else {
    req.body = HookJsonBody(batch);
    req.headers.push_back({"Content-Type", "application/json"});
  }
  req.headers.push_back({kHookSignatureHeader, HookSignature(hook.secret, unix_seconds, req.body)});
  req.headers.push_back({kHookUuidHeader, hook.uuid});
  return req;
}

}  // namespace courier
