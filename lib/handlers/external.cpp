#include "handlers/external.h"

#include <algorithm>
#include <sstream>

#include <Poco/AutoPtr.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Node.h>
#include <Poco/Exception.h>
#include <Poco/Net/MediaType.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/Net/NameValueCollection.h>

#include "core/json_writer.h"
#include "core/uuid.h"
#include "handlers/common.h"
#include "handlers/xml_body.h"

namespace courier {
namespace {

// The reference External default when the channel sets no max_length.
constexpr size_t kDefaultMaxLength = 160;
// How much of an XML webhook is read; the rest of a longer one is cut off,
// which leaves it malformed.
constexpr size_t kMaxXmlBytes = 100000;

const char* kEncoding = "encoding";
const char* kUseNational = "use_national";
const char* kSendAuthorization = "send_authorization";
const char* kSendHeaders = "send_headers";
const char* kMtResponseCheck = "mt_response_check";
const char* kMoFromField = "mo_from_field";
const char* kMoTextField = "mo_text_field";
const char* kMoDateField = "mo_date_field";
const char* kFromXpath = "from_xpath";
const char* kTextXpath = "text_xpath";
const char* kMoResponse = "mo_response";
const char* kMoResponseContentType = "mo_response_content_type";

const char* kDefaultSendBody =
    "id={{id}}&text={{text}}&to={{to}}&to_no_plus={{to_no_plus}}&from={{from}}&from_no_plus={{from_no_plus}}"
    "&channel={{channel}}";
const char* kFormContentType = "application/x-www-form-urlencoded";

// ---- receive ----------------------------------------------------------

// A webhook's fields in the order they are looked up: the body's (url-
// encoded or multipart/form-data), then the query string's.
class WebhookFields {
 public:
  static Result<WebhookFields> Read(const WebhookRequest& request);

  std::optional<std::string> Find(const std::string& name) const {
    for (const auto& [key, value] : fields_)
      if (key == name) return value;
    return std::nullopt;
  }
  // The value of the first of `names` the request has, even an empty
  // one; an empty name (an unset mo_*_field) is skipped.
  std::optional<std::string> FirstPresent(std::initializer_list<std::string> names) const {
    for (const auto& name : names) {
      if (name.empty()) continue;
      if (auto value = Find(name)) return value;
    }
    return std::nullopt;
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// The named fields of a multipart/form-data body; file parts are no
// fields and are left out.
Result<std::vector<std::pair<std::string, std::string>>> MultipartFields(const std::string& content_type,
                                                                          const std::string& body) {
  try {
    const Poco::Net::MediaType type(content_type);
    if (!type.hasParameter("boundary")) return Status::InvalidArgument("unable to parse multipart form: no boundary");
    std::istringstream in(body);
    Poco::Net::MultipartReader reader(in, type.getParameter("boundary"));
    std::vector<std::pair<std::string, std::string>> fields;
    // No honest part is longer than the body that holds it; on some
    // malformed bodies POCO's reader yields bytes without end (found by
    // fuzzing), so what it yields is counted against the body's size.
    size_t budget = body.size();
    while (reader.hasNextPart()) {
      if (budget == 0) return Status::InvalidArgument("unable to parse multipart form: more parts than the body holds");
      --budget;
      Poco::Net::MessageHeader header;
      reader.nextPart(header);
      std::string value;
      std::istream& part = reader.stream();
      char chunk[4096];
      while (part.read(chunk, sizeof chunk) || part.gcount() > 0) {
        const size_t got = static_cast<size_t>(part.gcount());
        if (got > budget) return Status::InvalidArgument("unable to parse multipart form: a part longer than the body");
        budget -= got;
        value.append(chunk, got);
      }
      std::string disposition;
      Poco::Net::NameValueCollection params;
      Poco::Net::MessageHeader::splitParameters(header.get("Content-Disposition", ""), disposition, params);
      if (!params.has("name") || params.has("filename")) continue;
      fields.emplace_back(params.get("name"), std::move(value));
    }
    return fields;
  } catch (const Poco::Exception& e) {
    return Status::InvalidArgument("unable to parse multipart form: " + e.displayText());
  }
}

Result<WebhookFields> WebhookFields::Read(const WebhookRequest& request) {
  WebhookFields fields;
  const std::string content_type = request.Header("content-type");
  if (ToLower(content_type).find("multipart/form-data") != std::string::npos) {
    auto parts = MultipartFields(content_type, request.body);
    if (!parts.ok()) return parts.status();
    fields.fields_ = std::move(parts).value();
  } else {
    fields.fields_ = request.form;
  }
  fields.fields_.insert(fields.fields_.end(), request.query.begin(), request.query.end());
  return fields;
}

// An XPath of the subset we take (external.h) as the paths Poco's
// getNodeByPath follows one after another: a path of several when `//`
// searches under the node found so far. Empty when the XPath is outside
// the subset.
std::vector<std::string> PocoPaths(std::string xpath) {
  xpath = Trim(xpath);
  constexpr std::string_view kText = "/text()";
  if (EndsWith(xpath, kText)) xpath.resize(xpath.size() - kText.size());  // the node's text is what we read
  // A final /@name: Poco gives the attribute for [@name].
  std::string attribute;
  const size_t last_step = xpath.rfind('/');
  if (last_step != std::string::npos && last_step + 1 < xpath.size() && xpath[last_step + 1] == '@' &&
      xpath.find_first_of("[]", last_step) == std::string::npos) {
    attribute = "[" + xpath.substr(last_step + 1) + "]";
    xpath.resize(last_step);
  }

  std::vector<std::string> paths(1);
  for (size_t i = 0; i < xpath.size();) {
    if (xpath.compare(i, 2, "//") == 0) {
      // Mid-path: a search of the subtree under what the path so far found.
      if (!paths.back().empty()) paths.emplace_back();
      paths.back() += "//";
      i += 2;
      continue;
    }
    if (xpath[i] == '*') return {};  // Poco's wildcard does not pick what XPath's does
    if (xpath[i] != '[') {
      paths.back() += xpath[i++];
      continue;
    }
    // A predicate, to its closing bracket outside quotes.
    size_t close = i + 1;
    char quote = 0;
    for (; close < xpath.size(); ++close) {
      if (quote) {
        if (xpath[close] == quote) quote = 0;
      } else if (xpath[close] == '\'' || xpath[close] == '"') {
        quote = xpath[close];
      } else if (xpath[close] == ']') {
        break;
      }
    }
    if (close >= xpath.size()) return {};
    const std::string predicate = Trim(xpath.substr(i + 1, close - i - 1));
    if (!predicate.empty() && AllDigits(predicate) && predicate.size() <= 6) {
      const int position = std::stoi(predicate);
      if (position < 1) return {};
      paths.back() += "[" + std::to_string(position - 1) + "]";  // XPath counts from 1, Poco from 0
    } else if (predicate.size() > 1 && predicate[0] == '@' && predicate.find('=') != std::string::npos) {
      const size_t eq = predicate.find('=');
      const std::string name = Trim(predicate.substr(1, eq - 1));
      std::string value = Trim(predicate.substr(eq + 1));
      const bool quoted = value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
                          value.back() == value.front();
      if (name.empty() || !quoted) return {};
      value = value.substr(1, value.size() - 2);
      // Poco ends the value at the first quote or bracket.
      if (value.find_first_of("'\"[]") != std::string::npos) return {};
      paths.back() += "[@" + name + "='" + value + "']";
    } else {
      return {};  // [@k] alone, functions, anything else
    }
    i = close + 1;
  }
  paths.back() += attribute;
  if (paths.back().empty()) return {};
  return paths;
}

// The first node `xpath` finds in `document`; null when none does.
Poco::XML::Node* FindNode(Poco::XML::Document* document, const std::string& xpath) {
  const std::vector<std::string> paths = PocoPaths(xpath);
  if (paths.empty()) return nullptr;
  Poco::XML::Node* node = document;
  try {
    for (const auto& path : paths) {
      node = node->getNodeByPath(path);
      if (node == nullptr) return nullptr;
    }
  } catch (const Poco::Exception&) {
    return nullptr;  // a path Poco cannot read finds nothing
  }
  return node;
}

struct XmlMo {
  std::string sender;
  std::string text;
};

Result<XmlMo> ReadXmlMo(const std::string& body, const std::string& from_xpath, const std::string& text_xpath) {
  auto document = handlers::ParseXmlBody(body.substr(0, kMaxXmlBytes));
  if (!document.ok()) return document.status();
  Poco::XML::Node* from = FindNode(*document, from_xpath);
  Poco::XML::Node* text = FindNode(*document, text_xpath);
  if (from == nullptr || text == nullptr)
    return Status::InvalidArgument("missing from at: " + from_xpath + " or text at: " + text_xpath + " node");
  return XmlMo{Trim(from->innerText()), text->innerText()};
}

// The contact that wrote: `sender` in the channel's first scheme, a tel
// number normalised with the channel's country.
Result<URN> SenderUrn(const Channel& channel, const std::string& sender) {
  const std::string scheme = channel.schemes.empty() ? "tel" : channel.schemes.front();
  return URN::FromParts(scheme, sender, channel.country);
}

WebhookResult ReceiveMsg(const Channel& channel, const WebhookRequest& request) {
  const std::string from_xpath = channel.ConfigOr(kFromXpath);
  const std::string text_xpath = channel.ConfigOr(kTextXpath);
  std::string sender, text, date;
  if (!from_xpath.empty() && !text_xpath.empty()) {
    auto mo = ReadXmlMo(request.body, from_xpath, text_xpath);
    if (!mo.ok()) return WebhookResult::Error(mo.status().message());
    sender = mo->sender;
    text = mo->text;
    if (sender.empty()) return WebhookResult::Error("must have one of 'sender' or 'from' set");
    if (text.empty()) return WebhookResult::Error("no text at: " + text_xpath);
  } else {
    auto fields = WebhookFields::Read(request);
    if (!fields.ok()) return WebhookResult::Error(fields.status().message());
    sender = fields->FirstPresent({channel.ConfigOr(kMoFromField), "from", "sender"}).value_or("");
    if (sender.empty()) return WebhookResult::Error("must have one of 'sender' or 'from' set");
    const std::string text_field = channel.ConfigOr(kMoTextField);
    text = fields->FirstPresent({text_field, "text"}).value_or("");
    if (text.empty()) {
      const bool configured_present = !text_field.empty() && fields->Find(text_field);
      return WebhookResult::Error("field '" + (configured_present ? text_field : std::string("text")) + "' required");
    }
    date = fields->FirstPresent({channel.ConfigOr(kMoDateField), "date", "time"}).value_or("");
  }
  auto urn = SenderUrn(channel, sender);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  if (!date.empty()) {
    auto t = ParseRfc3339(date);
    if (!t) return WebhookResult::Error("invalid date format, must be RFC 3339");
    msg.received_on = *t;
  }
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  const std::string answer = channel.ConfigOr(kMoResponse);
  if (!answer.empty()) {
    r.response_body = answer;
    r.response_content_type = channel.ConfigOr(kMoResponseContentType);
  }
  return r;
}

WebhookResult ReceiveStatus(const Route& route, const Channel& channel, const WebhookRequest& request) {
  auto fields = WebhookFields::Read(request);
  if (!fields.ok()) return WebhookResult::Error(fields.status().message());
  const std::string id = fields->Find("id").value_or("");
  const std::string uuid = fields->Find("uuid").value_or("");
  if (id.empty() && uuid.empty()) return WebhookResult::Error("parameters id or uuid should not be empty");
  const MsgStatus status = route.action == "sent"        ? MsgStatus::kSent
                           : route.action == "delivered" ? MsgStatus::kDelivered
                                                         : MsgStatus::kFailed;
  WebhookResult r;
  std::optional<std::string> msg_uuid = NormalizeUUID(uuid);
  if (!msg_uuid) msg_uuid = NormalizeUUID(id);
  if (msg_uuid) {
    r.statuses.push_back(handlers::StatusForMsgUuid(channel, *msg_uuid, status));
    return r;
  }
  // Our own ids: what {{id}} gave the gateway.
  if (!id.empty() && id.size() <= 18 && AllDigits(id)) {
    r.statuses.push_back(handlers::StatusForId(channel, std::stoll(id), status));
    return r;
  }
  return WebhookResult::Error("parsing failed: id '" + id + "' and uuid '" + uuid + "' are not valid UUIDs");
}

WebhookResult ReceiveStop(const Channel& channel, const WebhookRequest& request) {
  auto fields = WebhookFields::Read(request);
  if (!fields.ok()) return WebhookResult::Error(fields.status().message());
  // `sender` too, as the v0.2.0 contract and our earlier stops took it.
  const std::string sender = fields->FirstPresent({"from", "sender"}).value_or("");
  if (sender.empty()) return WebhookResult::Error("field 'from' required");
  auto urn = SenderUrn(channel, sender);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  WebhookResult r;
  r.stop_urns.push_back(urn->ToString());
  return r;
}

// ---- send -------------------------------------------------------------

// How a body takes the variables, from content_type.
enum class Syntax { kForm, kJson, kXml, kVerbatim };

struct BodyFormat {
  Syntax syntax;
  std::string content_type;  // the header
};

BodyFormat FormatFor(const std::string& configured) {
  const std::string name = ToLower(Trim(configured));
  if (name.empty() || name == "urlencoded") return {Syntax::kForm, kFormContentType};
  if (name == "json") return {Syntax::kJson, "application/json"};
  if (name == "xml") return {Syntax::kXml, "text/xml; charset=utf-8"};
  // Channels set before the short names have the media types themselves;
  // their bodies keep the escaping they had.
  const std::string media = Trim(name.substr(0, name.find(';')));
  if (media == kFormContentType) return {Syntax::kForm, configured};
  if (EndsWith(media, "/json") || EndsWith(media, "+json")) return {Syntax::kJson, configured};
  if (EndsWith(media, "/xml") || EndsWith(media, "+xml")) return {Syntax::kXml, configured};
  return {Syntax::kVerbatim, configured};
}

std::string JsonQuote(const std::string& s) {
  auto arr = json::NewArray();
  arr->add(s);
  std::string text = json::Stringify(arr);  // ["..."]
  return text.substr(1, text.size() - 2);
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      // A literal line break in the body would be read back as one space
      // in an attribute, and a CR as none at all.
      case '\n': out += "&#xA;"; break;
      case '\r': out += "&#xD;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string AsWritten(const std::string& s) { return s; }

using Escape = std::string (*)(const std::string&);

Escape EscapeFor(Syntax syntax) {
  switch (syntax) {
    case Syntax::kJson: return JsonQuote;
    case Syntax::kXml: return XmlEscape;
    case Syntax::kForm: return UrlEscape;
    case Syntax::kVerbatim: return AsWritten;
  }
  return UrlEscape;
}

using Vars = std::vector<std::pair<std::string, std::string>>;

// One pass over `tmpl`: each {{name}} of `vars` becomes its value through
// `escape`, each of `rendered` its value as it is (already in the target's
// syntax). What a value holds is never read again, so a msg saying
// "{{to}}" is sent as written.
std::string Expand(const std::string& tmpl, const Vars& vars, Escape escape, const Vars& rendered) {
  std::string out;
  size_t pos = 0;
  while (pos < tmpl.size()) {
    const size_t open = tmpl.find("{{", pos);
    if (open == std::string::npos) break;
    const size_t close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) break;
    const std::string name = tmpl.substr(open + 2, close - open - 2);
    const std::string* value = nullptr;
    bool escaped = true;
    for (const auto& [n, v] : vars)
      if (n == name) value = &v;
    for (const auto& [n, v] : rendered)
      if (n == name) value = &v, escaped = false;
    out += tmpl.substr(pos, open - pos);
    if (value == nullptr) {
      out += "{{";  // not ours: kept, and the search goes on after it
      pos = open + 2;
      continue;
    }
    out += escaped ? escape(*value) : *value;
    pos = close + 2;
  }
  out += tmpl.substr(std::min(pos, tmpl.size()));
  return out;
}

// {{quick_replies}}: the msg's text replies as the target's syntax wants
// them (the URL and bodies neither JSON nor XML repeat quick_reply=, JSON
// an array of strings, XML an <item> each).
std::string QuickRepliesFor(const std::vector<std::string>& replies, Syntax syntax) {
  if (syntax == Syntax::kJson) {
    JsonWriter w;
    w.Strings(replies);
    return w.Take();
  }
  std::string out;
  for (const auto& reply : replies) {
    if (syntax == Syntax::kXml) out += "<item>" + XmlEscape(reply) + "</item>";
    else out += "&quick_reply=" + UrlEscape(reply);
  }
  return out;
}

bool IsHeaderName(const std::string& name) {
  static const std::string kSymbols = "!#$%&'*+-.^_`|~";
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kSymbols.find(c) != std::string::npos;
  });
}

// A value a header line can carry: no line break or other control
// character but tab, which would end the header or smuggle another in.
bool IsHeaderValue(const std::string& value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7F;
  });
}

// Sets `name`, replacing a header of that name (in any case) already set.
void SetHeader(std::vector<std::pair<std::string, std::string>>& headers, const std::string& name,
               const std::string& value) {
  for (auto& header : headers)
    if (EqualsIgnoreCase(header.first, name)) {
      header = {name, value};
      return;
    }
  headers.emplace_back(name, value);
}

// The headers every request of the channel carries: Content-Type, then
// send_authorization, then send_headers over both; or what in the
// settings no request can carry. Error texts name the setting, never a
// value, which may be a credential.
Result<std::vector<std::pair<std::string, std::string>>> SendHeaders(const Channel& channel,
                                                                      const std::string& content_type) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!IsHeaderValue(content_type)) return Status::InvalidArgument("content_type holds a line break or control character");
  headers.emplace_back("Content-Type", content_type);
  const std::string authorization = channel.ConfigOr(kSendAuthorization);
  if (!authorization.empty()) {
    if (!IsHeaderValue(authorization))
      return Status::InvalidArgument("send_authorization holds a line break or control character");
    headers.emplace_back("Authorization", authorization);
  }
  const std::string extra = channel.ConfigOr(kSendHeaders);
  if (extra.empty()) return headers;
  auto object = json::ParseObject(extra);
  if (!object.ok()) return Status::InvalidArgument("send_headers is not a JSON object: " + object.status().message());
  for (const auto& name : (*object)->getNames()) {
    if (!IsHeaderName(name)) return Status::InvalidArgument("send_headers: '" + name + "' is not a header name");
    const auto value = json::ScalarText((*object)->get(name));
    if (!value) return Status::InvalidArgument("send_headers: the value of '" + name + "' is not text");
    if (!IsHeaderValue(*value))
      return Status::InvalidArgument("send_headers: the value of '" + name + "' holds a line break or control character");
    SetHeader(headers, name, *value);
  }
  return headers;
}

}  // namespace

const ChannelTypeInfo& ExternalHandler::Type() const {
  static const ChannelTypeInfo type = {
      "EX",
      "External",
      {"tel"},
      {
          {config_keys::kSendUrl, ConfigNeed::kToSend, false,
           "URL msgs are sent to; {{text}}, {{to}}, {{from}}, {{id}} ... are replaced, URL-escaped"},
          {config_keys::kSendMethod, ConfigNeed::kOptional, false, "HTTP method of the send", "POST"},
          {config_keys::kSendBody, ConfigNeed::kOptional, false,
           "body of a POST or PUT, with the same variables escaped for content_type",
           "id={{id}}&text={{text}}&to={{to}}&... (every variable)"},
          {config_keys::kContentType, ConfigNeed::kOptional, false,
           "urlencoded, json or xml (the body's escaping and Content-Type), or a Content-Type whose body takes "
           "the variables as they are",
           "urlencoded"},
          {kEncoding, ConfigNeed::kOptional, false,
           "D (as written) or S (smart: GSM 7-bit look-alikes when they make a part fit)", "D"},
          {kUseNational, ConfigNeed::kOptional, false,
           "true: {{to}} and {{to_no_plus}} are the number inside the channel's country, no leading zero", "false"},
          {kSendAuthorization, ConfigNeed::kOptional, true, "the Authorization header of each send"},
          {kSendHeaders, ConfigNeed::kOptional, false,
           "a JSON object of headers for each send, set after send_authorization (a bad one fails the msg)"},
          {kMtResponseCheck, ConfigNeed::kOptional, false, "text a 2xx answer must contain, else the msg fails (F)"},
          handlers::MaxLengthKey(kDefaultMaxLength),
          {kMoFromField, ConfigNeed::kOptional, false, "field of an incoming msg's sender, before from and sender"},
          {kMoTextField, ConfigNeed::kOptional, false, "field of an incoming msg's text, before text"},
          {kMoDateField, ConfigNeed::kOptional, false, "field of an incoming msg's date, before date and time"},
          {kFromXpath, ConfigNeed::kOptional, false,
           "with text_xpath: incoming msgs are XML, the sender at this path (XPath subset)"},
          {kTextXpath, ConfigNeed::kOptional, false,
           "with from_xpath: incoming msgs are XML, the text at this path (XPath subset)"},
          {kMoResponse, ConfigNeed::kOptional, false, "the answer to an incoming msg, instead of JSON"},
          {kMoResponseContentType, ConfigNeed::kOptional, false, "Content-Type of mo_response", "text/plain"},
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> ExternalHandler::Routes() const {
  std::vector<Route> routes;
  for (const char* method : {"GET", "POST"}) {
    routes.push_back({method, "receive", RouteKind::kReceive});
    routes.push_back({method, "sent", RouteKind::kStatus});
    routes.push_back({method, "delivered", RouteKind::kStatus});
    routes.push_back({method, "failed", RouteKind::kStatus});
    routes.push_back({method, "stopped", RouteKind::kEvent});
  }
  return routes;
}

WebhookResult ExternalHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                       HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  switch (route.kind) {
    case RouteKind::kStatus: return ReceiveStatus(route, channel, request);
    case RouteKind::kEvent: return ReceiveStop(channel, request);
    case RouteKind::kReceive: break;
  }
  return ReceiveMsg(channel, request);
}

SendResult ExternalHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string send_url = channel.ConfigOr(config_keys::kSendUrl);
  const std::string method = ToUpper(channel.ConfigOr(config_keys::kSendMethod, "POST"));
  const BodyFormat format = FormatFor(channel.ConfigOr(config_keys::kContentType));
  const std::string body_template = channel.ConfigOr(config_keys::kSendBody, kDefaultSendBody);
  const std::string response_check = channel.ConfigOr(kMtResponseCheck);
  const bool smart = ToUpper(channel.ConfigOr(kEncoding, "D")) == "S";
  auto headers = SendHeaders(channel, format.content_type);
  if (!headers.ok()) {
    // The same request would be refused again: only the settings can mend it.
    const std::string error = headers.status().message();
    return SendResult::Failed(error, {ErrorLog(channel, msg, error, ctx.clock.Now())});
  }

  std::string to = msg.urn.substr(msg.urn.find(':') + 1);
  if (handlers::ConfigFlag(channel, kUseNational, false)) to = LocalPhoneNumber(to, channel.country);
  const Escape body_escape = EscapeFor(format.syntax);
  const bool has_body = method == "POST" || method == "PUT";
  const std::vector<std::string> replies = TextQuickReplies(msg.quick_replies);
  const std::vector<std::string> no_replies;
  std::vector<ChannelLog> logs;
  const auto parts = SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kDefaultMaxLength));
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string part = parts[i];
    if (smart) {
      std::string replaced = ReplaceGsm7Substitutions(part);
      if (IsGsm7(replaced)) part = std::move(replaced);
    }
    // Quick replies go with the last part, which the user reads last.
    const std::vector<std::string>& part_replies = i + 1 == parts.size() ? replies : no_replies;
    const Vars vars = {
        {"id", std::to_string(msg.id)},  {"uuid", msg.uuid},
        {"text", part},                  {"to", to},
        {"to_no_plus", WithoutPlus(to)}, {"from", channel.address},
        {"from_no_plus", WithoutPlus(channel.address)},
        {"channel", channel.uuid},
        {"session_status", ""},  // our msgs carry no flow session
    };
    HttpRequestSpec req;
    req.method = method;
    req.url = Expand(send_url, vars, UrlEscape, {{"quick_replies", QuickRepliesFor(part_replies, Syntax::kForm)}});
    req.headers = *headers;
    if (has_body)
      req.body = Expand(body_template, vars, body_escape, {{"quick_replies", QuickRepliesFor(part_replies, format.syntax)}});
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      const std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    // The gateway answered 2xx but not with the words that say it took
    // the msg: it may have taken it all the same, so it is not retried.
    if (!response_check.empty() && exchange.body.find(response_check) == std::string::npos) {
      const std::string error = "response did not contain '" + response_check + "'";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    logs.push_back(std::move(call.log));
  }
  // The gateway gives no id: reports name the msg by {{id}} or {{uuid}}.
  return SendResult::Wired("", std::move(logs));
}

}  // namespace courier
