#include "handlers/channel_types.h"

#include "util/text.h"

namespace courier {

const std::vector<ChannelTypeInfo>& ChannelTypes() {
  static const std::vector<ChannelTypeInfo> types = {
      {"EX", "External", {"tel"}, "send_url, send_method, send_body, content_type"},
      {"KN", "Kannel", {"tel"}, "send_url, username, password, encoding, verify_ssl"},
      {"TG", "Telegram", {"telegram"}, "auth_token"},
      {"TW", "Twilio", {"tel"}, "account_sid, auth_token"},
      {"T", "Twilio", {"tel"}, "account_sid, auth_token"},
      {"TMS", "Twilio Messaging Service", {"tel"}, "account_sid, auth_token, messaging_service_sid"},
      {"TWA", "Twilio WhatsApp", {"whatsapp"}, "account_sid, auth_token"},
      {"SW", "SignalWire", {"tel"}, "account_sid, auth_token, base_url or space"},
      {"AT", "Africas Talking", {"tel"}, "username, api_key, is_shared"},
      {"BM", "Blackmyna", {"tel"}, "username, password, api_key"},
      {"SQ", "Shaqodoon", {"tel"}, "send_url, username, password"},
      {"YO", "YO!", {"tel"}, "username, password, base_url (hosts, comma-separated)"},
      {"NX", "Nexmo", {"tel"}, "nexmo_api_key, nexmo_api_secret, signature_secret, signature_method"},
      {"WAC", "WhatsApp Cloud", {"whatsapp"}, "access_token, app_secret, verify_token, phone_number_id (else address), api_version"},
      {"FBA", "Facebook", {"facebook"}, "access_token, app_secret, verify_token, address = page id (or page_id), api_version"},
      {"IG", "Instagram", {"instagram"}, "access_token (page token), app_secret, verify_token, address = Instagram account id, page_id, api_version"},
      {"PL", "Plivo", {"tel"}, "auth_id, auth_token (or PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN)"},
      {"CT", "Clickatell", {"tel"}, "api_key, api (\"platform\" for an SMS Platform HTTP key)"},
      {"SC", "SMS Central", {"tel"}, "username, password"},
      {"IB", "Infobip", {"tel"}, "username, password"},
      {"JS", "Jasmin", {"tel"}, "send_url, username, password"},
      {"ZVW", "Zenvia WhatsApp", {"whatsapp"}, "api_key"},
      {"ZVS", "Zenvia SMS", {"tel"}, "api_key"},
      {"SL", "Slack", {"slack"}, "bot_token, signing_secret"},
      {"FCM", "Firebase Cloud Messaging", {"fcm"}, "FCM_CREDENTIALS_JSON (service account), FCM_PROJECT_ID (else the credentials'), FCM_TITLE, FCM_NOTIFICATION, max_length"},
      {"D3C", "360Dialog", {"whatsapp"}, "api_key (or auth_token), base_url"},
      {"VP", "Viber", {"viber"}, "auth_token, sender_name (else channel name)"},
      {"LN", "Line", {"line"}, "secret (channel secret), auth_token (channel access token)"},
  };
  return types;
}

const ChannelTypeInfo* FindChannelType(const std::string& code) {
  const std::string upper = ToUpper(code);
  for (const auto& t : ChannelTypes())
    if (t.code == upper) return &t;
  return nullptr;
}

}  // namespace courier
