#include "handlers/channel_types.h"

#include <algorithm>
#include <cctype>

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
  };
  return types;
}

const ChannelTypeInfo* FindChannelType(const std::string& code) {
  std::string upper = code;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  for (const auto& t : ChannelTypes())
    if (t.code == upper) return &t;
  return nullptr;
}

}  // namespace courier
