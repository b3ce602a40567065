#pragma once
// MsgTemplate: a provider-approved message template an outgoing msg is
// sent as (WhatsApp templates: a conversation may only be opened with
// one), with the values of its variables. The provider holds the
// template's text; courier sends its name (or the provider's id of it)
// and the parameters of each component.
//
// JSON (the API, `send --jsonl`, the store, events):
//   {"name": "appointment_reminder", "language": "en_US",
//    "namespace": "...", "external_id": "HX...",
//    "components": [
//      {"type": "header", "params": [{"type": "image", "value": "https://..."}]},
//      {"type": "body", "params": [{"type": "text", "value": "Jane", "name": "patient"}]},
//      {"type": "button/url", "index": 0, "params": [{"type": "text", "value": "abc"}]},
//      {"type": "button/quick_reply", "index": 1, "params": [{"type": "text", "value": "STOP"}]}]}
// language, namespace (the WhatsApp on-premise and 360Dialog v1 template
// namespace), external_id (Twilio's content SID, Zenvia's template id),
// components and a param's name (Zenvia's fields) are optional.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/json_writer.h"
#include "core/status.h"

namespace courier {

struct TemplateParam {
  std::string type = "text";  // text, or image, video, document, audio (value: the media's URL)
  std::string value;
  std::string name;  // for providers that name their variables

  bool operator==(const TemplateParam& o) const { return type == o.type && value == o.value && name == o.name; }
};

struct TemplateComponent {
  std::string type;  // header, body, footer, button/url, button/quick_reply
  int index = 0;     // a button's position among the template's buttons
  std::vector<TemplateParam> params;

  bool operator==(const TemplateComponent& o) const {
    return type == o.type && index == o.index && params == o.params;
  }
};

struct MsgTemplate {
  std::string name;
  std::string language;  // BCP 47 or the provider's code (en_US); "" : the msg's locale
  std::string name_space;
  std::string external_id;
  std::vector<TemplateComponent> components;

  bool operator==(const MsgTemplate& o) const {
    return name == o.name && language == o.language && name_space == o.name_space && external_id == o.external_id &&
           components == o.components;
  }
};

// Name or external id present; component types known; every param's type
// known and value present (a missing variable is refused here, before any
// request), media values http(s) URLs; all valid UTF-8.
Status ValidateTemplate(const MsgTemplate& t);

void WriteTemplate(JsonWriter& w, const MsgTemplate& t);  // one object
std::string TemplateToJson(const MsgTemplate& t);
Result<MsgTemplate> TemplateFromJson(const json::ObjectPtr& object);
Result<MsgTemplate> ParseTemplate(const std::string& json_object);

}  // namespace courier
