#pragma once
// ChannelEvent: what a provider tells courier about a contact that is not
// a msg: a conversation opened (Telegram /start, Viber subscribed,
// Messenger's Get Started, LINE follow), a referral (Messenger and
// Instagram ads and m.me links, with their parameters), a welcome message
// shown (Viber), an opt-in or opt-out of a provider's notifications. A
// contact's stop keeps its own path (contact.stopped) since it changes
// what courier-send may do.
//
// Handlers build them from webhooks, the receiver gives each a uuid (the
// answer promises it, as a msg's), the spool and the store carry them, and
// the store writes each once (by uuid) with its contact and a
// "channel.event" event.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace courier {

enum class ChannelEventType { kNewConversation, kReferral, kWelcomeMessage, kOptIn, kOptOut };

inline constexpr ChannelEventType kAllChannelEventTypes[] = {
    ChannelEventType::kNewConversation, ChannelEventType::kReferral, ChannelEventType::kWelcomeMessage,
    ChannelEventType::kOptIn, ChannelEventType::kOptOut};

// "new_conversation", "referral", "welcome_message", "optin", "optout":
// the reference's names, which applications written for it know.
const char* ChannelEventTypeName(ChannelEventType type);
std::optional<ChannelEventType> ParseChannelEventType(std::string_view name);

struct ChannelEvent {
  std::string uuid;  // given on receipt; a replay with a stored uuid writes nothing
  ChannelEventType type = ChannelEventType::kNewConversation;
  std::string urn;
  std::string contact_name;  // "" leaves a known contact's name as it is
  // What the provider said about it, by name: a referral's source, type,
  // ref, ad_id, title; an opt-in's payload and token.
  std::map<std::string, std::string> extra;
  std::optional<Micros> occurred_on;  // the provider's time; the receiver sets it when absent
};

}  // namespace courier
