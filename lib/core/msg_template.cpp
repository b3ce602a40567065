#include "core/msg_template.h"

#include "util/utf8.h"

namespace courier {
namespace {

bool IsMedia(const std::string& type) {
  return type == "image" || type == "video" || type == "document" || type == "audio";
}

bool KnownComponent(const std::string& type) {
  return type == "header" || type == "body" || type == "footer" || type == "button/url" ||
         type == "button/quick_reply";
}

}  // namespace

Status ValidateTemplate(const MsgTemplate& t) {
  if (t.name.empty() && t.external_id.empty()) return Status::InvalidArgument("a template needs its name or external_id");
  for (const std::string* text : {&t.name, &t.language, &t.name_space, &t.external_id})
    if (!IsValidUtf8(*text)) return Status::InvalidArgument("a template field is not valid UTF-8");
  for (const auto& component : t.components) {
    if (!KnownComponent(component.type))
      return Status::InvalidArgument("unknown template component '" + component.type +
                                     "' (header, body, footer, button/url or button/quick_reply)");
    for (size_t i = 0; i < component.params.size(); ++i) {
      const TemplateParam& p = component.params[i];
      const std::string where = component.type + " param " + std::to_string(i + 1);
      if (p.type != "text" && !IsMedia(p.type))
        return Status::InvalidArgument("template " + where + ": unknown type '" + p.type +
                                       "' (text, image, video, document or audio)");
      if (p.value.empty()) return Status::InvalidArgument("template " + where + " has no value");
      if (!IsValidUtf8(p.value) || !IsValidUtf8(p.name))
        return Status::InvalidArgument("template " + where + " is not valid UTF-8");
      if (IsMedia(p.type) && p.value.rfind("http://", 0) != 0 && p.value.rfind("https://", 0) != 0)
        return Status::InvalidArgument("template " + where + ": a " + p.type + " needs an http:// or https:// URL");
    }
  }
  return Status::OK();
}

void WriteTemplate(JsonWriter& w, const MsgTemplate& t) {
  w.BeginObject();
  w.Field("name", t.name);
  if (!t.language.empty()) w.Field("language", t.language);
  if (!t.name_space.empty()) w.Field("namespace", t.name_space);
  if (!t.external_id.empty()) w.Field("external_id", t.external_id);
  w.Key("components").BeginArray();
  for (const auto& c : t.components) {
    w.BeginObject().Field("type", c.type);
    if (c.type.rfind("button/", 0) == 0) w.Field("index", c.index);
    w.Key("params").BeginArray();
    for (const auto& p : c.params) {
      w.BeginObject().Field("type", p.type).Field("value", p.value);
      if (!p.name.empty()) w.Field("name", p.name);
      w.EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray();
  w.EndObject();
}

std::string TemplateToJson(const MsgTemplate& t) {
  JsonWriter w;
  WriteTemplate(w, t);
  return w.Take();
}

Result<MsgTemplate> TemplateFromJson(const json::ObjectPtr& o) {
  if (!o) return Status::InvalidArgument("a template must be an object");
  MsgTemplate t;
  for (const char* key : {"name", "language", "namespace", "external_id"}) {
    if (o->has(key) && !o->isNull(key) && !json::GetString(o, key))
      return Status::InvalidArgument(std::string("template field '") + key + "' must be a string");
  }
  t.name = json::GetStringOrEmpty(o, "name");
  t.language = json::GetStringOrEmpty(o, "language");
  t.name_space = json::GetStringOrEmpty(o, "namespace");
  t.external_id = json::GetStringOrEmpty(o, "external_id");
  if (o->has("components") && !o->isNull("components") && !json::GetArray(o, "components"))
    return Status::InvalidArgument("template field 'components' must be an array");
  for (const auto& c : json::GetObjects(o, "components")) {
    TemplateComponent component;
    component.type = json::GetStringOrEmpty(c, "type");
    component.index = static_cast<int>(json::GetInt(c, "index").value_or(0));
    for (const auto& p : json::GetObjects(c, "params")) {
      TemplateParam param;
      param.type = json::GetString(p, "type").value_or("text");
      auto value = json::GetText(p, "value");
      param.value = value.value_or("");
      param.name = json::GetStringOrEmpty(p, "name");
      component.params.push_back(std::move(param));
    }
    t.components.push_back(std::move(component));
  }
  return t;
}

Result<MsgTemplate> ParseTemplate(const std::string& json_object) {
  auto parsed = json::ParseObject(json_object);
  if (!parsed.ok()) return Status::InvalidArgument("template is not a JSON object: " + parsed.status().message());
  return TemplateFromJson(*parsed);
}

}  // namespace courier
