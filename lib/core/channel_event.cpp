#include "core/channel_event.h"

namespace courier {

const char* ChannelEventTypeName(ChannelEventType type) {
  switch (type) {
    case ChannelEventType::kNewConversation:
      return "new_conversation";
    case ChannelEventType::kReferral:
      return "referral";
    case ChannelEventType::kWelcomeMessage:
      return "welcome_message";
    case ChannelEventType::kOptIn:
      return "optin";
    case ChannelEventType::kOptOut:
      return "optout";
  }
  return "new_conversation";
}

std::optional<ChannelEventType> ParseChannelEventType(std::string_view name) {
  for (ChannelEventType type : kAllChannelEventTypes) {
    if (name == ChannelEventTypeName(type)) return type;
  }
  return std::nullopt;
}

}  // namespace courier
