#pragma once
// MsgStatus: the lifecycle of a message, with the reference's one-letter
// codes (P Q S W E D F, plus R for read).
//
// Incoming msgs are stored P. Outgoing msgs go Q -> W -> S -> D (-> R), with E
// (retryable, repeatable) possible before delivery and F terminal. Providers
// send callbacks out of order and more than once, so the store applies a
// status only when TransitionAllowed() says so; anything else is ignored
// rather than written backwards (a D never goes back to W).

#include <optional>
#include <string>
#include <string_view>

namespace courier {

enum class MsgStatus : char {
  kPending = 'P',
  kQueued = 'Q',
  kWired = 'W',
  kSent = 'S',
  kDelivered = 'D',
  kRead = 'R',
  kErrored = 'E',
  kFailed = 'F',
};

// Every status, in the order above.
inline constexpr MsgStatus kAllMsgStatuses[] = {
    MsgStatus::kPending,   MsgStatus::kQueued, MsgStatus::kWired,   MsgStatus::kSent,
    MsgStatus::kDelivered, MsgStatus::kRead,   MsgStatus::kErrored, MsgStatus::kFailed,
};

// "W" for kWired.
char MsgStatusCode(MsgStatus s);
std::string MsgStatusString(MsgStatus s);
// "wired" for kWired.
const char* MsgStatusName(MsgStatus s);
// Accepts the one-letter code (either case) or the name ("delivered").
std::optional<MsgStatus> ParseMsgStatus(std::string_view text);

// Whether a msg in `from` may move to `to`. Repeating the current status is
// allowed (providers repeat callbacks) and is a no-op for the caller.
// Q is reachable from E and F only: that is an operator's retry.
bool TransitionAllowed(MsgStatus from, MsgStatus to);

// Final statuses: nothing the provider says changes them.
bool IsFinal(MsgStatus s);

}  // namespace courier
