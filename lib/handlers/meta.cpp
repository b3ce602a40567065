#include "handlers/meta.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

#include "core/redact.h"
#include "handlers/common.h"
#include "handlers/whatsapp_cloud.h"

namespace courier {
namespace {

const char* kDefaultGraphUrl = "https://graph.facebook.com";
const char* kDefaultApiVersion = "v21.0";
const char* kJsonContentType = "application/json";

// Config keys particular to these types.
const char* kAccessToken = "access_token";
const char* kAppSecret = "app_secret";
const char* kVerifyToken = "verify_token";
const char* kWebhookSecret = "webhook_secret";
const char* kApiVersion = "api_version";
const char* kPhoneNumberId = "phone_number_id";
const char* kPageId = "page_id";

// Limits from the providers' docs: WhatsApp text bodies up to 4096
// characters, media captions and interactive bodies up to 1024, reply
// button titles 20 and list row titles 24 characters, at most 3 buttons
// and 10 rows; Messenger text up to 2000 characters; Instagram text under
// 1000 bytes of UTF-8; Messenger and Instagram quick replies at most 13,
// titles truncated at 20 characters.
constexpr size_t kWhatsAppTextMax = 4096;
constexpr size_t kWhatsAppCaptionMax = 1024;
constexpr size_t kWhatsAppButtonTitleMax = 20;
constexpr size_t kWhatsAppRowTitleMax = 24;
constexpr size_t kWhatsAppMaxButtons = 3;
constexpr size_t kWhatsAppMaxRows = 10;
constexpr size_t kWhatsAppRowDescriptionMax = 72;
constexpr size_t kMessengerTextMax = 2000;
constexpr size_t kInstagramTextBytes = 1000;
constexpr size_t kQuickReplyTitleMax = 20;
constexpr size_t kMaxQuickReplies = 13;

// ---- JSON reading -------------------------------------------------------


// ---- text helpers -------------------------------------------------------

// SplitText at `max_chars`, then parts still over `max_bytes` of UTF-8
// split again at proportionally fewer characters (Instagram counts bytes,
// not characters).
std::vector<std::string> SplitBytes(const std::string& text, size_t max_chars, size_t max_bytes) {
  std::vector<std::string> out;
  for (const auto& part : SplitText(text, std::min(max_chars, max_bytes))) {
    if (part.size() <= max_bytes) {
      out.push_back(part);
      continue;
    }
    size_t chars = CodePoints(part);
    size_t max_chars = std::max<size_t>(1, chars * max_bytes / part.size());
    for (;;) {
      auto pieces = SplitText(part, max_chars);
      bool fits = true;
      for (const auto& p : pieces) fits = fits && p.size() <= max_bytes;
      if (fits || max_chars == 1) {
        out.insert(out.end(), pieces.begin(), pieces.end());
        break;
      }
      max_chars = std::max<size_t>(1, max_chars * 9 / 10);
    }
  }
  return out;
}

// The last segment of a URL's path: a document's file name.
std::string FileName(const std::string& url) {
  std::string p = url.substr(0, url.find_first_of("?#"));
  auto slash = p.rfind('/');
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  return name;
}

// ---- webhook checks -----------------------------------------------------

std::string VerifyToken(const Channel& channel) {
  return channel.ConfigOr(kVerifyToken, channel.ConfigOr(kWebhookSecret));
}

std::string GraphBase(const Channel& channel) {
  std::string version = channel.ConfigOr(kApiVersion, kDefaultApiVersion);
  if (!StartsWith(version, "v")) version = "v" + version;
  return handlers::BaseUrl(channel, kDefaultGraphUrl) + "/" + version;
}

std::string AccessToken(const Channel& channel) {
  return channel.ConfigOr(kAccessToken, channel.ConfigOr(config_keys::kAuthToken));
}

// ---- WhatsApp Cloud API receive -----------------------------------------

// Media arrive as ids, looked up with the access token. The URL is Meta's
// (it needs the same token to download and expires after minutes), kept
// as the API gives it.
Result<std::string> ResolveMedia(HandlerContext& ctx, const Channel& channel, const std::string& media_id,
                                 const std::string& mime_hint, std::vector<ChannelLog>& logs) {
  const std::string token = AccessToken(channel);
  if (token.empty()) return Status::InvalidArgument("no access_token set for WAC channel");
  auto media = whatsapp_cloud::LookUpMedia(ctx, channel, GraphBase(channel), {"Authorization", "Bearer " + token},
                                           media_id, mime_hint, logs);
  if (!media.ok()) return media.status();
  return media->mime_type + ":" + media->url;
}

// The phone number id a WhatsApp change names in value.metadata.
std::string ChangePhoneNumberId(const json::ObjectPtr& change) {
  return json::GetId(json::GetObject(json::GetObject(change, "value"), "metadata"), "phone_number_id");
}

std::string WhatsAppPhoneNumberId(const Channel& channel) { return channel.ConfigOr(kPhoneNumberId, channel.address); }

WebhookResult ReceiveWhatsApp(const Channel& channel, const json::ArrayPtr& entries, HandlerContext& ctx) {
  handlers::Collector c;
  const whatsapp_cloud::MediaResolver resolve = [&ctx, &channel](const std::string& media_id,
                                                                 const std::string& mime_hint,
                                                                 std::vector<ChannelLog>& logs) {
    return ResolveMedia(ctx, channel, media_id, mime_hint, logs);
  };
  const std::string phone_number_id = WhatsAppPhoneNumberId(channel);
  for (const auto& entry : json::Objects(entries)) {
    for (const auto& change : json::Objects(json::GetArray(entry, "changes"))) {
      const std::string field = json::GetStringOrEmpty(change, "field");
      if (field != "messages") {
        c.skipped.push_back("ignoring change of field '" + field + "'");
        continue;
      }
      const std::string pid = ChangePhoneNumberId(change);
      if (!pid.empty() && pid != phone_number_id) {
        c.skipped.push_back("ignoring change for phone number id '" + pid + "'");
        continue;
      }
      if (Status read = whatsapp_cloud::ReadValue(channel, json::GetObject(change, "value"), resolve, c); !read.ok()) {
        WebhookResult failed = c.Fail(read.message());
        failed.temporary = read.IsUnavailable();
        return failed;
      }
    }
  }
  return c.Finish();
}

// ---- Messenger and Instagram receive --------------------------------------

// The reference (FB) skips events whose recipient is not the channel
// address; app-level webhooks name the page (Instagram account) in
// entry.id, which is what we filter on. A postback of a button of ours
// becomes a msg with its title as text; the Get Started button (payload
// "get_started") opens a conversation, and a referral (an ad, an m.me or
// ig.me link with a ref, alone or on the Get Started postback) and an
// opt-in are channel events (core/channel_event.h) with what the provider
// said in `extra`.
WebhookResult ReceiveMessaging(const Channel& channel, const json::ArrayPtr& entries, bool instagram) {
  handlers::Collector c;
  const std::string scheme = instagram ? "instagram" : "facebook";
  for (const auto& entry : json::Objects(entries)) {
    // The app's webhook names the page (Instagram account) in entry.id.
    const std::string entry_id = json::GetId(entry, "id");
    if (!entry_id.empty() && entry_id != channel.address) {
      c.skipped.push_back("ignoring entry for '" + entry_id + "'");
      continue;
    }
    json::ArrayPtr messaging = json::GetArray(entry, "messaging");
    if (!messaging) {  // standby (handover protocol), changes (feed) ...
      c.skipped.push_back("ignoring entry without messaging events");
      continue;
    }
    for (const auto& event : json::Objects(messaging)) {
      const std::string sender = json::GetId(json::GetObject(event, "sender"), "id");
      const std::optional<int64_t> timestamp = json::GetIntLoose(event, "timestamp");  // milliseconds
      const std::optional<Micros> received_on =
          timestamp ? handlers::MicrosFromMillis(static_cast<double>(*timestamp)) : std::nullopt;
      // Instagram-scoped ids are numeric, like Messenger's page-scoped ids
      // (the URN itself takes any instagram path: usernames too).
      auto sender_urn = [&]() -> Result<URN> {
        if (instagram && !std::all_of(sender.begin(), sender.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
          return Status::InvalidArgument("invalid path for scheme 'instagram': '" + sender + "' is not numeric");
        return URN::FromParts(scheme, sender);
      };

      if (json::ObjectPtr message = json::GetObject(event, "message")) {
        if (json::GetBool(message, "is_echo").value_or(false)) {
          c.skipped.push_back("ignoring echo");
          continue;
        }
        if (json::GetBool(message, "is_deleted").value_or(false)) {
          c.skipped.push_back("ignoring deleted message");
          continue;
        }
        if (sender.empty()) return c.Fail("field 'sender.id' required");
        const std::string mid = json::GetStringOrEmpty(message, "mid");
        if (mid.empty()) return c.Fail("field 'message.mid' required");
        auto urn = sender_urn();
        if (!urn.ok()) return c.Fail(urn.status().message());

        // A quick reply comes as a text message whose text is the title
        // (message.quick_reply.payload carries our payload): kept as text.
        std::string text = json::GetStringOrEmpty(message, "text");
        std::vector<std::string> attachments;
        for (const auto& a : json::Objects(json::GetArray(message, "attachments"))) {
          const std::string kind = json::GetStringOrEmpty(a, "type");
          json::ObjectPtr payload = json::GetObject(a, "payload");
          if (kind == "location") {
            json::ObjectPtr where = json::GetObject(payload, "coordinates");
            auto lat = json::GetNumberLoose(where, "lat"), lng = json::GetNumberLoose(where, "long");
            if (lat && lng) attachments.push_back("geo:" + handlers::Coordinate(*lat) + "," + handlers::Coordinate(*lng));
            continue;
          }
          const std::string url = json::GetStringOrEmpty(payload, "url");
          if (url.empty() || kind == "fallback" || kind == "template") continue;  // links and cards: no media
          attachments.push_back(meta::TypedMime(kind, url) + ":" + url);
        }
        if (text.empty() && attachments.empty()) {
          c.skipped.push_back("ignoring message without text or attachments");
          continue;
        }
        Msg msg = handlers::IncomingMsg(channel, *urn, text);
        msg.external_id = mid;
        msg.attachments = std::move(attachments);
        if (received_on) msg.received_on = received_on;
        c.result.msgs.push_back(std::move(msg));
      } else if (json::ObjectPtr postback = json::GetObject(event, "postback")) {
        if (sender.empty()) return c.Fail("field 'sender.id' required");
        auto urn = sender_urn();
        if (!urn.ok()) return c.Fail(urn.status().message());
        // Get Started, tapped from a link or an ad that carried a ref: the
        // referral; without one, a conversation opened.
        json::ObjectPtr referral = json::GetObject(postback, "referral");
        const bool referred = referral && !json::GetStringOrEmpty(referral, "ref").empty();
        if (referred || json::GetStringOrEmpty(postback, "payload") == "get_started") {
          ChannelEvent started;
          started.type = referred ? ChannelEventType::kReferral : ChannelEventType::kNewConversation;
          started.urn = urn->ToString();
          if (referred) started.extra = meta::ReferralExtra(referral);
          if (const std::string title = json::GetStringOrEmpty(postback, "title"); !title.empty())
            started.extra["title"] = title;
          started.extra["payload"] = json::GetStringOrEmpty(postback, "payload");
          started.occurred_on = received_on;
          c.result.events.push_back(std::move(started));
          continue;
        }
        // A button of ours was tapped: its title is what the user saw,
        // kept as the text; the payload when there is none.
        std::string text = json::GetStringOrEmpty(postback, "title");
        if (text.empty()) text = json::GetStringOrEmpty(postback, "payload");
        if (text.empty()) {
          c.skipped.push_back("ignoring postback without title or payload");
          continue;
        }
        Msg msg = handlers::IncomingMsg(channel, *urn, text);
        msg.external_id = json::GetStringOrEmpty(postback, "mid");
        if (received_on) msg.received_on = received_on;
        c.result.msgs.push_back(std::move(msg));
      } else if (json::ObjectPtr delivery = json::GetObject(event, "delivery")) {
        json::ArrayPtr mids = json::GetArray(delivery, "mids");
        size_t before = c.result.statuses.size();
        for (unsigned i = 0; mids && i < mids->size(); ++i) {
          Poco::Dynamic::Var v = mids->get(i);
          if (v.isString())
            c.result.statuses.push_back(
                handlers::StatusForExternalId(channel, v.extract<std::string>(), MsgStatus::kDelivered));
        }
        if (c.result.statuses.size() == before) c.skipped.push_back("ignoring delivery without message ids");
      } else if (json::ObjectPtr read = json::GetObject(event, "read")) {
        // Instagram names the message read; Messenger gives only a
        // watermark (everything before it was read), which names no msg.
        const std::string mid = json::GetStringOrEmpty(read, "mid");
        if (mid.empty()) {
          c.skipped.push_back("ignoring read receipt without message id");
          continue;
        }
        c.result.statuses.push_back(handlers::StatusForExternalId(channel, mid, MsgStatus::kRead));
      } else if (json::ObjectPtr referral = json::GetObject(event, "referral")) {
        // An ad or a link followed by someone already in the conversation.
        if (sender.empty()) return c.Fail("field 'sender.id' required");
        auto urn = sender_urn();
        if (!urn.ok()) return c.Fail(urn.status().message());
        ChannelEvent referred;
        referred.type = ChannelEventType::kReferral;
        referred.urn = urn->ToString();
        referred.extra = meta::ReferralExtra(referral);
        referred.occurred_on = received_on;
        c.result.events.push_back(std::move(referred));
      } else if (json::ObjectPtr optin = json::GetObject(event, "optin")) {
        // Without a sender the opt-in names the person by a user_ref only
        // (the checkbox plugin), which courier cannot send to.
        if (sender.empty()) {
          c.skipped.push_back("ignoring opt-in without a sender");
          continue;
        }
        auto urn = sender_urn();
        if (!urn.ok()) return c.Fail(urn.status().message());
        ChannelEvent opted;
        opted.urn = urn->ToString();
        opted.occurred_on = received_on;
        if (json::GetStringOrEmpty(optin, "type") == "notification_messages") {
          // Marketing messages: asked for, or stopped ("STOP NOTIFICATIONS").
          const bool stopped = json::GetStringOrEmpty(optin, "notification_messages_status") == "STOP NOTIFICATIONS";
          opted.type = stopped ? ChannelEventType::kOptOut : ChannelEventType::kOptIn;
          for (const char* key : {"title", "payload", "notification_messages_token", "notification_messages_frequency",
                                  "token_expiry_timestamp"}) {
            if (auto value = json::GetText(optin, key); value && !value->empty()) opted.extra[key] = *value;
          }
        } else {
          // Send to Messenger: a referral with the plugin's ref.
          opted.type = ChannelEventType::kReferral;
          if (const std::string ref = json::GetStringOrEmpty(optin, "ref"); !ref.empty()) opted.extra["ref"] = ref;
        }
        c.result.events.push_back(std::move(opted));
      } else if (json::GetObject(event, "reaction")) {
        c.skipped.push_back("ignoring reaction");
      } else {
        c.skipped.push_back("ignoring unknown messaging event");
      }
    }
  }
  return c.Finish();
}

// ---- send -----------------------------------------------------------------

json::ObjectPtr Obj(std::initializer_list<std::pair<std::string, Poco::Dynamic::Var>> fields) {
  json::ObjectPtr o = json::NewObject();
  for (const auto& [k, v] : fields) o->set(k, v);
  return o;
}

json::ObjectPtr WhatsAppBase(const meta::WhatsAppShape& shape, const std::string& to, const std::string& type) {
  if (shape.on_premise) return Obj({{shape.recipient_field, to}, {"type", type}});
  return Obj({{"messaging_product", "whatsapp"}, {"recipient_type", "individual"}, {shape.recipient_field, to},
              {"type", type}});
}

json::ObjectPtr WhatsAppText(const meta::WhatsAppShape& shape, const std::string& to, const std::string& text) {
  json::ObjectPtr o = WhatsAppBase(shape, to, "text");
  const bool link = text.find("http://") != std::string::npos || text.find("https://") != std::string::npos;
  if (!shape.on_premise) {
    o->set("text", Obj({{"body", text}, {"preview_url", link}}));
    return o;
  }
  if (link) o->set("preview_url", true);
  o->set("text", Obj({{"body", text}}));
  return o;
}

// Reply buttons (up to 3) or a list (up to 10 rows) for the text replies,
// else a location request, else a URL button, under `text`.
json::ObjectPtr WhatsAppInteractive(const meta::WhatsAppShape& shape, const std::string& to, const std::string& text,
                                    const std::vector<QuickReply>& quick_replies) {
  json::ObjectPtr interactive = json::NewObject();
  json::ObjectPtr action = json::NewObject();
  std::vector<const QuickReply*> texts;
  const QuickReply* location = nullptr;
  const QuickReply* url = nullptr;
  for (const auto& reply : quick_replies) {
    if (reply.type == QuickReplyType::kText) texts.push_back(&reply);
    if (reply.type == QuickReplyType::kLocation && location == nullptr) location = &reply;
    if (reply.type == QuickReplyType::kUrl && url == nullptr) url = &reply;
  }
  // Buttons show no description: a list does, so any description asks
  // for a list.
  const bool described = std::any_of(texts.begin(), texts.end(), [](const QuickReply* r) {
    return !r->description.empty();
  });
  if (!texts.empty() && texts.size() <= kWhatsAppMaxButtons && !described) {
    interactive->set("type", "button");
    json::ArrayPtr buttons = json::NewArray();
    for (size_t i = 0; i < texts.size(); ++i)
      buttons->add(Obj({{"type", "reply"},
                        {"reply", Obj({{"id", std::to_string(i)},
                                       {"title", Truncate(texts[i]->text, kWhatsAppButtonTitleMax)}})}}));
    action->set("buttons", buttons);
  } else if (!texts.empty()) {
    interactive->set("type", "list");
    json::ArrayPtr rows = json::NewArray();
    for (size_t i = 0; i < texts.size() && i < kWhatsAppMaxRows; ++i) {
      json::ObjectPtr row = Obj({{"id", std::to_string(i)}, {"title", Truncate(texts[i]->text, kWhatsAppRowTitleMax)}});
      if (!texts[i]->description.empty())
        row->set("description", Truncate(texts[i]->description, kWhatsAppRowDescriptionMax));
      rows->add(row);
    }
    json::ArrayPtr sections = json::NewArray();
    sections->add(Obj({{"rows", rows}}));
    action->set("button", "Menu");
    action->set("sections", sections);
  } else if (location != nullptr) {
    // The user is shown a button that sends their location back.
    interactive->set("type", "location_request_message");
    action->set("name", "send_location");
  } else if (url != nullptr) {
    interactive->set("type", "cta_url");
    action->set("name", "cta_url");
    action->set("parameters", Obj({{"display_text", Truncate(url->text, kWhatsAppButtonTitleMax)},
                                   {"url", url->url}}));
  }
  interactive->set("body", Obj({{"text", text}}));
  interactive->set("action", action);
  json::ObjectPtr o = WhatsAppBase(shape, to, "interactive");
  o->set("interactive", interactive);
  return o;
}

// WhatsApp's media kind for a MIME type: image, video, audio, else a
// document (which takes any file).
std::string WhatsAppMediaKind(const std::string& mime) {
  const std::string major = mime.substr(0, mime.find('/'));
  if (major == "image" || major == "video" || major == "audio") return major;
  return "document";
}

std::vector<std::string> WhatsAppPayloads(const meta::WhatsAppShape& shape, const std::string& to,
                                          const std::string& text, const std::vector<std::string>& attachments,
                                          const std::vector<QuickReply>& quick_replies, size_t max_length) {
  std::vector<json::ObjectPtr> parts;
  // A caption and an interactive body hold at most 1024 characters, and
  // no more than the channel's max_length either.
  const size_t short_max = std::min(max_length, kWhatsAppCaptionMax);
  // One image, video or document carries the text as its caption when it
  // fits and there are no quick replies (audio takes no caption).
  bool captioned = false;
  for (size_t i = 0; i < attachments.size(); ++i) {
    auto [mime, url] = SplitAttachment(attachments[i]);
    const std::string kind = WhatsAppMediaKind(mime);
    const auto [ref_key, ref_value] =
        shape.media_reference ? shape.media_reference(url) : std::pair<std::string, std::string>{"link", url};
    json::ObjectPtr media = Obj({{ref_key, ref_value}});
    if (attachments.size() == 1 && kind != "audio" && quick_replies.empty() && !text.empty() &&
        CodePoints(text) <= short_max) {
      media->set("caption", text);
      captioned = true;
    }
    if (kind == "document") {
      const std::string name = FileName(url);
      if (!name.empty()) media->set("filename", name);
    }
    json::ObjectPtr o = WhatsAppBase(shape, to, kind);
    o->set(kind, media);
    parts.push_back(o);
  }
  if (!captioned && !text.empty()) {
    if (quick_replies.empty()) {
      for (const auto& t : SplitText(text, max_length)) parts.push_back(WhatsAppText(shape, to, t));
    } else {
      // The buttons ride on the last part, whose body is limited to 1024.
      auto texts = SplitText(text, short_max);
      for (size_t i = 0; i + 1 < texts.size(); ++i) parts.push_back(WhatsAppText(shape, to, texts[i]));
      parts.push_back(WhatsAppInteractive(shape, to, texts.back(), quick_replies));
    }
  }
  std::vector<std::string> out;
  for (const auto& p : parts) out.push_back(json::Stringify(p));
  return out;
}

// A template message: each component with parameters, in WhatsApp's
// shape (media by link, a URL button's suffix as text, a quick reply
// button's payload).
Result<std::string> WhatsAppTemplate(const meta::WhatsAppShape& shape, const std::string& to, const MsgTemplate& t,
                                     const std::string& locale) {
  std::string language = t.language.empty() ? locale : t.language;
  if (language.empty())
    return Status::InvalidArgument("template '" + t.name + "' has no language and the msg no locale");
  std::replace(language.begin(), language.end(), '-', '_');
  if (t.name.empty()) return Status::InvalidArgument("a WhatsApp template needs its name");
  json::ArrayPtr components = json::NewArray();
  for (const auto& c : t.components) {
    if (c.params.empty()) continue;  // WhatsApp takes the components that have values
    json::ArrayPtr parameters = json::NewArray();
    const bool quick_reply = c.type == "button/quick_reply";
    for (const auto& p : c.params) {
      if (quick_reply) {
        parameters->add(Obj({{"type", "payload"}, {"payload", p.value}}));
      } else if (p.type == "text") {
        parameters->add(Obj({{"type", "text"}, {"text", p.value}}));
      } else {
        parameters->add(Obj({{"type", p.type}, {p.type, Obj({{"link", p.value}})}}));
      }
    }
    json::ObjectPtr component = json::NewObject();
    if (c.type.rfind("button/", 0) == 0) {
      component->set("type", "button");
      component->set("sub_type", c.type.substr(std::string("button/").size()));
      component->set("index", std::to_string(c.index));
    } else {
      component->set("type", c.type);
    }
    component->set("parameters", parameters);
    components->add(component);
  }
  json::ObjectPtr templ = json::NewObject();
  if (shape.on_premise && !shape.template_namespace.empty()) templ->set("namespace", shape.template_namespace);
  templ->set("name", t.name);
  templ->set("language", Obj({{"policy", "deterministic"}, {"code", language}}));
  if (components->size() > 0) templ->set("components", components);
  json::ObjectPtr o = WhatsAppBase(shape, to, "template");
  o->set("template", templ);
  return json::Stringify(o);
}

json::ObjectPtr MessengerEnvelope(const std::string& recipient, json::ObjectPtr message) {
  // RESPONSE: a message inside the 24 hour standard messaging window (the
  // Send API's and Instagram's documented default for replies).
  return Obj({{"recipient", Obj({{"id", recipient}})}, {"messaging_type", "RESPONSE"}, {"message", message}});
}

std::vector<std::string> MessengerPayloads(bool instagram, const std::string& recipient, std::string text,
                                           const std::vector<std::string>& attachments,
                                           const std::vector<QuickReply>& typed_replies, size_t max_length) {
  const std::vector<std::string> quick_replies = TextQuickReplies(typed_replies);
  std::vector<json::ObjectPtr> messages;
  for (const auto& attachment : attachments) {
    auto [mime, url] = SplitAttachment(attachment);
    std::string kind = mime.substr(0, mime.find('/'));
    if (kind != "image" && kind != "video" && kind != "audio") {
      // Messenger takes any other file. Instagram takes a file attachment
      // only for PDF ("Upload Media for Instagram Messaging": File, pdf,
      // 25MB); any other document reaches an Instagram user as a link.
      if (instagram && ToLower(mime) != "application/pdf") {
        text += (text.empty() ? "" : "\n") + url;
        continue;
      }
      kind = "file";
    }
    messages.push_back(
        Obj({{"attachment", Obj({{"type", kind}, {"payload", Obj({{"url", url}, {"is_reusable", true}})}})}}));
  }
  // The reference's later Messenger send split at 640 characters; the Send
  // API takes 2000.
  if (!text.empty()) {
    auto texts = instagram ? SplitBytes(text, max_length, kInstagramTextBytes) : SplitText(text, max_length);
    for (const auto& t : texts) messages.push_back(Obj({{"text", t}}));
  }
  // Quick replies on the last message, where they stay visible; Instagram
  // supports them on text only.
  if (!quick_replies.empty() && !messages.empty() && (!instagram || messages.back()->has("text"))) {
    json::ArrayPtr qrs = json::NewArray();
    for (size_t i = 0; i < quick_replies.size() && i < kMaxQuickReplies; ++i)
      qrs->add(Obj({{"content_type", "text"},
                    {"title", Truncate(quick_replies[i], kQuickReplyTitleMax)},
                    {"payload", quick_replies[i]}}));
    messages.back()->set("quick_replies", qrs);
  }
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(json::Stringify(MessengerEnvelope(recipient, m)));
  return out;
}

// The webhook's object for each kind.
std::string WantedObject(MetaHandler::Kind kind) {
  switch (kind) {
    case MetaHandler::Kind::kWhatsApp: return "whatsapp_business_account";
    case MetaHandler::Kind::kMessenger: return "page";
    case MetaHandler::Kind::kInstagram: return "instagram";
  }
  return "";
}

// The webhook's entries, once its object is known to be ours: the parsed
// body, or what to answer instead.
struct Entries {
  json::ArrayPtr entries;
  std::optional<WebhookResult> answer;
};

Entries ReadEntries(MetaHandler::Kind kind, const WebhookRequest& request) {
  Entries out;
  auto parsed = handlers::ParseJsonBody(request);
  if (!parsed.ok()) {
    out.answer = WebhookResult::Error(parsed.status().message());
    return out;
  }
  const std::string object = json::GetStringOrEmpty(*parsed, "object");
  if (object.empty()) {
    out.answer = WebhookResult::Error("field 'object' required");
    return out;
  }
  const std::string want = WantedObject(kind);
  if (object != want) {
    out.answer = WebhookResult::Ignored("ignoring object '" + object + "', expected '" + want + "'");
    return out;
  }
  out.entries = json::GetArray(*parsed, "entry");
  if (!out.entries) {
    out.answer = WebhookResult::Error("field 'entry' required");
    return out;
  }
  return out;
}

}  // namespace

// ---- shared with the legacy Messenger type (FB) ----------------------------

namespace meta {

// X-Hub-Signature-256: "sha256=" + hex(HMAC-SHA256(app secret, raw body)).
// Meta documents no answer for a bad signature; DESIGN.md's 401 it is.
// A missing app secret is our configuration's fault: 400.
std::optional<WebhookResult> CheckSignature(const Channel& channel, const WebhookRequest& request,
                                            const std::string& code) {
  const std::string secret = channel.ConfigOr(kAppSecret);
  if (secret.empty()) return WebhookResult::Error("no app_secret set for " + code + " channel");
  const std::string header = ToLower(request.Header("x-hub-signature-256"));
  if (header.empty()) return WebhookResult::Unauthorized("missing request signature");
  const std::string prefix = "sha256=";
  if (!StartsWith(header, prefix) ||
      !ConstantTimeEquals(header.substr(prefix.size()), HmacSha256Hex(secret, request.body)))
    return WebhookResult::Unauthorized("invalid request signature");
  return std::nullopt;
}

// The MIME type of a Messenger/Instagram attachment, which comes with a
// kind (image, video, audio, file...) and a URL but no type: the URL's
// extension when it agrees with the kind, else the kind's usual type
// (Messenger voice clips are AAC in MP4).
std::string TypedMime(const std::string& kind, const std::string& url) {
  const std::string guess = MimeTypeFromPath(url);
  if (kind != "image" && kind != "video" && kind != "audio") return guess.empty() ? kDefaultMimeType : guess;
  if (StartsWith(guess, kind + "/")) return guess;
  if (guess.size() > 4 && guess.substr(guess.size() - 4) == "/mp4") return kind + "/mp4";
  if (kind == "image") return "image/jpeg";
  if (kind == "video") return "video/mp4";
  return "audio/mp4";
}

// A referral object's parameters, as a referral event's extra.
std::map<std::string, std::string> ReferralExtra(const json::ObjectPtr& referral) {
  std::map<std::string, std::string> extra;
  for (const char* key : {"source", "type", "ref", "ad_id", "referer_uri"}) {
    if (auto value = json::GetText(referral, key); value && !value->empty()) extra[key] = *value;
  }
  if (auto title = json::GetText(json::GetObject(referral, "ads_context_data"), "ad_title"); title && !title->empty())
    extra["ad_title"] = *title;
  return extra;
}

}  // namespace meta

// ---- Graph API errors -----------------------------------------------------

namespace meta {

GraphError ReadGraphError(const json::ObjectPtr& answer) {
  GraphError e;
  json::ObjectPtr err = json::GetObject(answer, "error");
  if (!err) return e;
  e.present = true;
  e.code = json::GetIntLoose(err, "code").value_or(0);
  e.subcode = json::GetIntLoose(err, "error_subcode").value_or(0);
  e.transient = json::GetBool(err, "is_transient").value_or(false);
  e.text = json::GetStringOrEmpty(err, "message");
  const std::string details = json::GetStringOrEmpty(json::GetObject(err, "error_data"), "details");
  if (!details.empty()) e.text += (e.text.empty() ? "" : ": ") + details;
  return e;
}

std::string GraphErrorText(const std::string& provider, const GraphError& e) {
  return "received error from " + provider + ": " + e.text + " (code " + std::to_string(e.code) +
         (e.subcode ? ", subcode " + std::to_string(e.subcode) : "") + ")";
}

namespace {

// Graph API rate limits (Graph API "Rate Limiting"): 4 application, 17
// user, 32 page, 613 call rate, 80001-80007 business use case limits
// (80006 Messenger, 80002 Instagram, 80007 WhatsApp); WhatsApp's
// "Throttling errors": 130429 throughput, 131048 spam rate limit, 131056
// pair rate limit, 133016 registration rate limit.
bool IsThrottling(MetaHandler::Kind kind, int64_t code) {
  if (code == 4 || code == 17 || code == 32 || code == 613 || (code >= 80001 && code <= 80007)) return true;
  return kind == MetaHandler::Kind::kWhatsApp &&
         (code == 130429 || code == 131048 || code == 131056 || code == 133016);
}

// Errors Meta documents as passing, whatever the HTTP status they come
// with: 1 "API Unknown" and 2 "API Service" (downtime, overload), 1200
// Messenger's "Temporary send message failure", WhatsApp's 131000
// "Something went wrong", 131016 "Service unavailable" and 133004 "Server
// temporarily unavailable"; and any error the Graph API marks
// is_transient.
bool IsTransient(MetaHandler::Kind kind, const GraphError& e) {
  if (e.transient || e.code == 1 || e.code == 2) return true;
  if (kind == MetaHandler::Kind::kWhatsApp) return e.code == 131000 || e.code == 131016 || e.code == 133004;
  return e.code == 1200;
}

// The contact cannot be reached by this business any more: 131050
// (WhatsApp: the user stopped marketing messages), 551 (Messenger and
// Instagram: the person blocked the page or is not available).
bool StopsContact(MetaHandler::Kind kind, int64_t code) {
  return kind == MetaHandler::Kind::kWhatsApp ? code == 131050 : code == 551;
}

}  // namespace

// Retry-After when Meta sends one, else the pair rate limit's "one message
// every 6 seconds", a second for the throughput limit (and a bare 429), a
// minute for the app, page, spam and business limits.
int ThrottleSeconds(const GraphError& e, const HttpExchange& exchange) {
  if (!exchange.Header("retry-after").empty()) return handlers::RetryAfterSeconds(exchange);
  if (e.code == 131056) return 6;
  if (e.code == 130429 || e.code == 0) return 1;
  return 60;
}

SendResult GraphFailure(MetaHandler::Kind kind, const GraphError& e, std::string error, std::vector<ChannelLog> logs,
                        const HttpExchange& exchange) {
  if (exchange.status_code == 429 || IsThrottling(kind, e.code)) {
    SendResult r = SendResult::Errored(std::move(error), std::move(logs));
    r.throttled_for_seconds = ThrottleSeconds(e, exchange);
    return r;
  }
  if (StopsContact(kind, e.code)) {
    SendResult r = SendResult::Failed(std::move(error), std::move(logs));
    r.stop_contact = true;
    return r;
  }
  if (IsTransient(kind, e)) return SendResult::Errored(std::move(error), std::move(logs));
  // A 2xx that carries an error object took nothing: nothing suggests a
  // retry would fare better.
  if (exchange.ok()) return SendResult::Failed(std::move(error), std::move(logs));
  return handlers::FailedAnswer(std::move(error), std::move(logs), exchange);
}

SendResult SendPayloads(MetaHandler::Kind kind, const Channel& channel, const Msg& msg, const HttpRequestSpec& request,
                        const std::vector<std::string>& payloads, HandlerContext& ctx, const Relay* relay) {
  using Kind = MetaHandler::Kind;
  const std::string provider = relay != nullptr             ? relay->provider
                               : kind == Kind::kWhatsApp    ? "whatsapp"
                               : kind == Kind::kMessenger   ? "facebook"
                                                            : "instagram";
  const auto secrets = channel.SecretValues();
  std::vector<ChannelLog> logs;
  std::string external_id;
  for (const auto& payload : payloads) {
    HttpRequestSpec req = request;
    req.body = payload;
    auto call = handlers::MakeCall(ctx, channel, msg, req);

    if (!call.exchange.error.empty()) {  // no answer at all
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return SendResult::Errored(error, std::move(logs));
    }
    auto body = json::ParseObject(call.exchange.body);
    json::ObjectPtr answer = body.ok() ? *body : nullptr;
    // {"error":{"message","type","code","error_subcode","is_transient",
    // "error_data":{"details"},"fbtrace_id"}}, with any HTTP status.
    const GraphError graph_error = ReadGraphError(answer);
    if (call.ok() && !graph_error.present) {
      // WhatsApp: {"messages":[{"id":"wamid..."}]}; Messenger and
      // Instagram: {"recipient_id":..., "message_id":"m_..."}.
      std::string id;
      if (kind == Kind::kWhatsApp) {
        auto messages = json::Objects(json::GetArray(answer, "messages"));
        if (!messages.empty()) id = json::GetStringOrEmpty(messages[0], "id");
      } else {
        id = json::GetStringOrEmpty(answer, "message_id");
      }
      if (id.empty()) {
        call.log.error = kind == Kind::kWhatsApp ? "no 'messages[0].id' in response" : "no 'message_id' in response";
        std::string error = call.log.error;
        logs.push_back(std::move(call.log));
        return handlers::AcceptedWithoutId(error, std::move(logs));
      }
      if (external_id.empty()) external_id = id;
      logs.push_back(std::move(call.log));
      continue;
    }

    std::string error = call.log.error;
    std::optional<Relay::Refusal> relayed;
    if (graph_error.present) {
      error = Redact(GraphErrorText(provider, graph_error), secrets);
      call.log.error = error;
    } else if (relay != nullptr && relay->refusal && (relayed = relay->refusal(answer))) {
      error = Redact(relayed->error, secrets);
      call.log.error = error;
    }
    logs.push_back(std::move(call.log));
    if (relayed && relayed->rate_limited) {
      SendResult r = SendResult::Errored(error, std::move(logs));
      r.throttled_for_seconds =
          call.exchange.Header("retry-after").empty() ? 60 : handlers::RetryAfterSeconds(call.exchange);
      return r;
    }
    return GraphFailure(kind, graph_error, error, std::move(logs), call.exchange);
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace meta

// ---- the handler ------------------------------------------------------------

const ChannelTypeInfo& MetaHandler::Type() const {
  // What all three read; then the node messages are sent from.
  auto describe = [](const char* code, const char* name, const char* scheme, size_t max_length,
                     ConfigKeyInfo node) {
    return ChannelTypeInfo{
        code,
        name,
        {scheme},
        {
            {kAccessToken, ConfigNeed::kToSend, true, "a system user's or page's access token (also for media)",
             "", config_keys::kAuthToken},
            {config_keys::kAuthToken, ConfigNeed::kOptional, true, "another name for access_token"},
            ConfigKeyInfo{kAppSecret, ConfigNeed::kToReceive, true, "the Meta app's secret, which signs webhooks"}
                .VerifiesWebhooks(),
            {kVerifyToken, ConfigNeed::kToReceive, true,
             "the token Meta's webhook verification must present (hub.verify_token)", "", kWebhookSecret},
            {kWebhookSecret, ConfigNeed::kOptional, true, "another name for verify_token"},
            {kApiVersion, ConfigNeed::kOptional, false, "the Graph API version", kDefaultApiVersion},
            node,
            handlers::BaseUrlKey(kDefaultGraphUrl),
            handlers::MaxLengthKey(max_length),
        }};
  };
  static const ChannelTypeInfo whatsapp =
      describe("WAC", "WhatsApp Cloud", "whatsapp", kWhatsAppTextMax,
               {kPhoneNumberId, ConfigNeed::kOptional, false, "the WhatsApp number's id at Meta", "the address"});
  static const ChannelTypeInfo messenger =
      describe("FBA", "Facebook", "facebook", kMessengerTextMax,
               {kPageId, ConfigNeed::kOptional, false, "the page messages are sent from", "the address"});
  static const ChannelTypeInfo instagram =
      describe("IG", "Instagram", "instagram", kInstagramTextBytes,
               {kPageId, ConfigNeed::kOptional, false, "the page linked to the Instagram account",
                "me (the token's page)"});
  switch (kind_) {
    case Kind::kWhatsApp: return whatsapp;
    case Kind::kMessenger: return messenger;
    case Kind::kInstagram: return instagram;
  }
  return whatsapp;
}

std::vector<Route> MetaHandler::Routes() const {
  return {{"GET", "receive", RouteKind::kReceive}, {"POST", "receive", RouteKind::kReceive}};
}

WebhookResult MetaHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                   HandlerContext& ctx) const {
  if (route.method == "GET") return Verify({&channel}, request);
  if (auto bad = meta::CheckSignature(channel, request, Code())) return *bad;
  return ReceivePart(channel, request, ctx);
}

// ---- app-level webhooks -----------------------------------------------------

std::vector<Route> MetaHandler::AppRoutes() const { return Routes(); }

// The address of FBA and IG channels is the page id and the Instagram
// account id that webhooks name in entry[].id; a WhatsApp change names
// the phone number id.
std::string MetaHandler::RoutingKey(const Channel& channel) const {
  return kind_ == Kind::kWhatsApp ? WhatsAppPhoneNumberId(channel) : channel.address;
}

// Meta's verification request: GET with hub.mode=subscribe, the verify
// token we gave Meta, and a challenge to echo as the plain-text body. The
// reference (FB, v1.1.3) compared with config `secret` and then POSTed
// subscribed_apps; app-level webhooks are subscribed in Meta's app
// dashboard, so we only answer the challenge. At the app-level URL the
// token may be any channel's of the type: one host can serve several apps.
WebhookResult MetaHandler::Verify(const std::vector<const Channel*>& channels, const WebhookRequest& request) const {
  bool any_token = false;
  for (const Channel* c : channels) any_token = any_token || !VerifyToken(*c).empty();
  if (!any_token) return WebhookResult::Error("no verify_token set for " + Code() + " channel");
  handlers::Fields f(request, handlers::Fields::kQuery);
  const std::string mode = f.Required("hub.mode");
  if (!f.ok()) return WebhookResult::Error(f.error());
  if (mode != "subscribe") return WebhookResult::Error("unknown hub.mode '" + mode + "', must be 'subscribe'");
  const std::string token = request.QueryParam("hub.verify_token").value_or("");
  bool matched = false;
  for (const Channel* c : channels) {
    const std::string want = VerifyToken(*c);
    // Every channel compared, so the time taken does not tell which matched.
    if (!token.empty() && !want.empty() && ConstantTimeEquals(token, want)) matched = true;
  }
  if (!matched) return WebhookResult::Unauthorized("token does not match verify token");
  const std::string challenge = f.Required("hub.challenge");
  if (!f.ok()) return WebhookResult::Error(f.error());
  WebhookResult r;
  r.response_body = challenge;
  r.response_content_type = "text/plain";
  return r;
}

// WhatsApp routes each change by value.metadata.phone_number_id (an entry
// is a WhatsApp Business Account, which may hold several numbers);
// Messenger and Instagram route each entry by its id. A part keeps the
// webhook's shape with only its channel's entries (and changes), so a
// channel's log shows only what was for it; a webhook that is all for one
// channel is its own part, byte for byte.
AppWebhookSplit MetaHandler::Split(const WebhookRequest& request) const {
  AppWebhookSplit split;
  Entries read = ReadEntries(kind_, request);
  if (read.answer) {
    if (!read.answer->error.empty()) split.error = read.answer->error;
    else split.ignored = read.answer->ignored;
    return split;
  }

  struct Group {
    std::string key;
    json::ArrayPtr entries = json::NewArray();
    json::ObjectPtr last_entry;   // the copy of the entry being filled (WhatsApp)
    json::ObjectPtr last_source;  // the entry it copies
  };
  std::vector<Group> groups;
  auto group_for = [&groups](const std::string& key) -> Group& {
    for (auto& g : groups)
      if (g.key == key) return g;
    groups.emplace_back();
    groups.back().key = key;
    return groups.back();
  };

  for (const auto& entry : json::Objects(read.entries)) {
    if (kind_ != Kind::kWhatsApp) {
      const std::string id = json::GetId(entry, "id");
      if (id.empty()) {
        split.skipped.push_back("ignoring entry without id");
        continue;
      }
      group_for(id).entries->add(entry);
      continue;
    }
    for (const auto& change : json::Objects(json::GetArray(entry, "changes"))) {
      const std::string field = json::GetStringOrEmpty(change, "field");
      if (field != "messages") {  // template and account updates name no number
        split.skipped.push_back("ignoring change of field '" + field + "'");
        continue;
      }
      const std::string pid = ChangePhoneNumberId(change);
      if (pid.empty()) {
        split.skipped.push_back("ignoring change without phone number id");
        continue;
      }
      Group& g = group_for(pid);
      if (g.last_source != entry) {
        g.last_entry = json::NewObject();
        for (const auto& [k, v] : *entry)
          if (k != "changes") g.last_entry->set(k, v);
        g.last_entry->set("changes", json::NewArray());
        g.last_source = entry;
        g.entries->add(g.last_entry);
      }
      g.last_entry->getArray("changes")->add(change);
    }
  }

  if (groups.size() == 1 && split.skipped.empty()) {
    split.parts.push_back({groups[0].key, request.body});
    return split;
  }
  for (const auto& g : groups) {
    json::ObjectPtr body = json::NewObject();
    body->set("object", WantedObject(kind_));
    body->set("entry", g.entries);
    split.parts.push_back({g.key, json::Stringify(body)});
  }
  return split;
}

std::optional<WebhookResult> MetaHandler::Authenticate(const Channel& channel, const WebhookRequest& request) const {
  return meta::CheckSignature(channel, request, Code());
}

WebhookResult MetaHandler::ReceivePart(const Channel& channel, const WebhookRequest& part, HandlerContext& ctx) const {
  Entries read = ReadEntries(kind_, part);
  if (read.answer) return *read.answer;
  if (kind_ == Kind::kWhatsApp) return ReceiveWhatsApp(channel, read.entries, ctx);
  return ReceiveMessaging(channel, read.entries, kind_ == Kind::kInstagram);
}

// ---- send -------------------------------------------------------------------

size_t MetaHandler::ProviderTextMax() const {
  switch (kind_) {
    case Kind::kWhatsApp: return kWhatsAppTextMax;
    case Kind::kMessenger: return kMessengerTextMax;
    case Kind::kInstagram: return kInstagramTextBytes;
  }
  return kMessengerTextMax;
}

std::vector<std::string> MetaHandler::Payloads(const std::string& recipient, const std::string& text,
                                               const std::vector<std::string>& attachments,
                                               const std::vector<QuickReply>& quick_replies, size_t max_length,
                                               const meta::WhatsAppShape& shape) const {
  if (max_length == 0) max_length = ProviderTextMax();
  if (kind_ == Kind::kWhatsApp) return WhatsAppPayloads(shape, recipient, text, attachments, quick_replies, max_length);
  return MessengerPayloads(kind_ == Kind::kInstagram, recipient, text, attachments, quick_replies, max_length);
}

Result<std::vector<std::string>> MetaHandler::MsgPayloads(const std::string& recipient, const Msg& msg,
                                                          size_t max_length, const meta::WhatsAppShape& shape) const {
  if (kind_ == Kind::kWhatsApp && msg.templating) {
    auto body = WhatsAppTemplate(shape, recipient, *msg.templating, msg.locale);
    if (!body.ok()) return body.status();
    return std::vector<std::string>{*body};
  }
  return Payloads(recipient, msg.text, msg.attachments, msg.quick_replies, max_length, shape);
}

SendResult MetaHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  auto config_error = [&](const std::string& error) {
    return SendResult::Errored(error, {ErrorLog(channel, msg, error, ctx.clock.Now())});
  };
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string token = AccessToken(channel);
  std::string node;
  switch (kind_) {
    case Kind::kWhatsApp: node = WhatsAppPhoneNumberId(channel); break;
    case Kind::kMessenger: node = channel.ConfigOr(kPageId, channel.address); break;
    case Kind::kInstagram: node = channel.ConfigOr(kPageId, "me"); break;
  }
  if (node.empty()) return config_error(std::string("no ") + (kind_ == Kind::kWhatsApp ? kPhoneNumberId : kPageId) +
                                        " set for " + Code() + " channel");

  const std::string recipient = msg.urn.substr(msg.urn.find(':') + 1);
  const auto built = MsgPayloads(recipient, msg, handlers::MaxLength(channel, ProviderTextMax()));
  if (!built.ok())
    return SendResult::Failed(built.status().message(), {ErrorLog(channel, msg, built.status().message(), ctx.clock.Now())});
  const std::vector<std::string>& payloads = *built;
  if (payloads.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  HttpRequestSpec request;
  request.method = "POST";
  request.url = GraphBase(channel) + "/" + node + "/messages";
  request.headers.push_back({"Content-Type", kJsonContentType});
  request.headers.push_back({"Authorization", "Bearer " + token});
  return meta::SendPayloads(kind_, channel, msg, request, payloads, ctx);
}

// WhatsApp's media URLs need the access token (Meta: "Download Media");
// Messenger's and Instagram's are public CDN URLs, fetched as they are.
HttpRequestSpec MetaHandler::MediaRequest(const Channel& channel, const std::string& url) const {
  HttpRequestSpec req = ChannelHandler::MediaRequest(channel, url);
  const std::string token = AccessToken(channel);
  if (kind_ == Kind::kWhatsApp && !token.empty() &&
      handlers::UrlOnHosts(url, {"fbsbx.com", "facebook.com", "whatsapp.net"}, handlers::BaseUrl(channel, kDefaultGraphUrl)))
    req.headers.push_back({"Authorization", "Bearer " + token});
  return req;
}

}  // namespace courier
