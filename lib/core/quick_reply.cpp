#include "core/quick_reply.h"

#include <Poco/JSON/Parser.h>

#include "util/utf8.h"

namespace courier {

const char* QuickReplyTypeName(QuickReplyType type) {
  switch (type) {
    case QuickReplyType::kText:
      return "text";
    case QuickReplyType::kLocation:
      return "location";
    case QuickReplyType::kUrl:
      return "url";
  }
  return "text";
}

std::optional<QuickReplyType> ParseQuickReplyType(std::string_view name) {
  for (QuickReplyType type : {QuickReplyType::kText, QuickReplyType::kLocation, QuickReplyType::kUrl}) {
    if (name == QuickReplyTypeName(type)) return type;
  }
  return std::nullopt;
}

QuickReply QuickReply::Text(std::string text, std::string description) {
  QuickReply reply;
  reply.text = std::move(text);
  reply.description = std::move(description);
  return reply;
}

QuickReply QuickReply::Location(std::string text) {
  QuickReply reply;
  reply.type = QuickReplyType::kLocation;
  reply.text = std::move(text);
  return reply;
}

QuickReply QuickReply::Url(std::string text, std::string url) {
  QuickReply reply;
  reply.type = QuickReplyType::kUrl;
  reply.text = std::move(text);
  reply.url = std::move(url);
  return reply;
}

Status ValidateQuickReplies(const std::vector<QuickReply>& replies) {
  for (const auto& reply : replies) {
    if (reply.text.empty()) return Status::InvalidArgument("a quick reply must not be empty");
    if (!IsValidUtf8(reply.text) || !IsValidUtf8(reply.description) || !IsValidUtf8(reply.url))
      return Status::InvalidArgument("a quick reply is not valid UTF-8");
    if (reply.type == QuickReplyType::kUrl && reply.url.rfind("http://", 0) != 0 && reply.url.rfind("https://", 0) != 0)
      return Status::InvalidArgument("a url quick reply needs an http:// or https:// url, not '" + reply.url + "'");
  }
  return Status::OK();
}

void WriteQuickReplies(JsonWriter& w, const std::vector<QuickReply>& replies) {
  w.BeginArray();
  for (const auto& reply : replies) {
    if (reply.type == QuickReplyType::kText && reply.description.empty()) {
      w.String(reply.text);
      continue;
    }
    w.BeginObject().Field("type", QuickReplyTypeName(reply.type)).Field("text", reply.text);
    if (!reply.description.empty()) w.Field("description", reply.description);
    if (!reply.url.empty()) w.Field("url", reply.url);
    w.EndObject();
  }
  w.EndArray();
}

std::string QuickRepliesToJson(const std::vector<QuickReply>& replies) {
  if (replies.empty()) return "[]";
  JsonWriter w;
  WriteQuickReplies(w, replies);
  return w.Take();
}

namespace {

Result<std::vector<QuickReply>> FromArray(const json::ArrayPtr& array) {
  std::vector<QuickReply> replies;
  if (!array) return replies;
  for (unsigned i = 0; i < array->size(); ++i) {
    const Poco::Dynamic::Var item = array->get(i);
    if (item.isString()) {
      replies.push_back(QuickReply::Text(item.extract<std::string>()));
      continue;
    }
    json::ObjectPtr object = array->getObject(i);
    if (!object) return Status::InvalidArgument("a quick reply must be a string or an object");
    const std::string type_name = json::GetString(object, "type").value_or("text");
    auto type = ParseQuickReplyType(type_name);
    if (!type) return Status::InvalidArgument("unknown quick reply type '" + type_name + "' (text, location or url)");
    auto text = json::GetString(object, "text");
    if (!text) return Status::InvalidArgument("a quick reply needs its text");
    QuickReply reply;
    reply.type = *type;
    reply.text = *text;
    const std::string extra = json::GetStringOrEmpty(object, "extra");
    if (reply.type == QuickReplyType::kText)
      reply.description = json::GetString(object, "description").value_or(extra);
    if (reply.type == QuickReplyType::kUrl) reply.url = json::GetString(object, "url").value_or(extra);
    replies.push_back(std::move(reply));
  }
  return replies;
}

}  // namespace

Result<std::vector<QuickReply>> QuickRepliesFromJson(const json::ObjectPtr& object, const std::string& key) {
  if (!object || !object->has(key) || object->isNull(key)) return std::vector<QuickReply>{};
  json::ArrayPtr array = object->getArray(key);
  if (!array) return Status::InvalidArgument("field '" + key + "' must be an array");
  return FromArray(array);
}

Result<std::vector<QuickReply>> ParseQuickReplies(const std::string& json_array) {
  try {
    Poco::JSON::Parser parser;
    auto parsed = parser.parse(json_array);
    json::ArrayPtr array = parsed.extract<json::ArrayPtr>();
    return FromArray(array);
  } catch (const Poco::Exception& e) {
    return Status::InvalidArgument("quick replies are not a JSON array: " + e.displayText());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("quick replies are not a JSON array: ") + e.what());
  }
}

std::vector<std::string> TextQuickReplies(const std::vector<QuickReply>& replies) {
  std::vector<std::string> texts;
  for (const auto& reply : replies)
    if (reply.type == QuickReplyType::kText) texts.push_back(reply.text);
  return texts;
}

}  // namespace courier
