#include "core/msg_status.h"

#include "util/text.h"

namespace courier {

char MsgStatusCode(MsgStatus s) { return static_cast<char>(s); }

std::string MsgStatusString(MsgStatus s) { return std::string(1, MsgStatusCode(s)); }

const char* MsgStatusName(MsgStatus s) {
  switch (s) {
    case MsgStatus::kPending: return "pending";
    case MsgStatus::kQueued: return "queued";
    case MsgStatus::kWired: return "wired";
    case MsgStatus::kSent: return "sent";
    case MsgStatus::kDelivered: return "delivered";
    case MsgStatus::kRead: return "read";
    case MsgStatus::kErrored: return "errored";
    case MsgStatus::kFailed: return "failed";
  }
  return "unknown";
}

std::optional<MsgStatus> ParseMsgStatus(std::string_view text) {
  if (text.size() == 1) {
    const char c = ToUpper(text.substr(0, 1))[0];
    for (MsgStatus s : kAllMsgStatuses) {
      if (MsgStatusCode(s) == c) return s;
    }
    return std::nullopt;
  }
  for (MsgStatus s : kAllMsgStatuses) {
    if (EqualsIgnoreCase(text, MsgStatusName(s))) return s;
  }
  return std::nullopt;
}

// The rules, one line per source status. Providers send callbacks late, out
// of order and repeatedly, so the only moves allowed are forward ones, plus
// two deliberate exceptions:
//  - S -> E/F: a provider may report failure after it first said "sent".
//  - E -> anything but P/R: a late delivery report after an error wins, and
//    E -> Q is the retry.
// Q is only entered again through an operator's retry (from E or F); P is
// only ever an incoming msg's first status.
bool TransitionAllowed(MsgStatus from, MsgStatus to) {
  if (from == to) return true;
  using S = MsgStatus;
  switch (from) {
    case S::kPending:
      return false;
    case S::kQueued:
      return to == S::kWired || to == S::kSent || to == S::kDelivered || to == S::kErrored ||
             to == S::kFailed;
    case S::kWired:
      return to == S::kSent || to == S::kDelivered || to == S::kRead || to == S::kErrored ||
             to == S::kFailed;
    case S::kSent:
      return to == S::kDelivered || to == S::kRead || to == S::kErrored || to == S::kFailed;
    case S::kDelivered:
      return to == S::kRead;
    case S::kRead:
      return false;
    case S::kErrored:
      return to == S::kQueued || to == S::kWired || to == S::kSent || to == S::kDelivered ||
             to == S::kFailed;
    case S::kFailed:
      return to == S::kQueued;
  }
  return false;
}

bool IsFinal(MsgStatus s) {
  return s == MsgStatus::kFailed || s == MsgStatus::kDelivered || s == MsgStatus::kRead;
}

}  // namespace courier
