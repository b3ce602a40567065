#include "store/content_duplicates.h"

#include <algorithm>

namespace courier {

std::optional<std::pair<Micros, Micros>> RepeatedWithin(const RecentMsg& last, const std::string& text,
                                                        const std::string& attachments, Micros received_on,
                                                        Micros window) {
  if (window <= 0 || !last.received_on || last.text != text || last.attachments != attachments) return std::nullopt;
  // Either may be the earlier: a spooled webhook is written after its
  // retry when the store was down for the first and back for the second.
  const Micros from = std::min(*last.received_on, received_on);
  const Micros to = std::max(*last.received_on, received_on);
  if (to - from > window) return std::nullopt;
  return std::make_pair(from, to);
}

bool SentBetween(const std::vector<RecentMsg>& outgoing, Micros from, Micros to) {
  for (const auto& msg : outgoing) {
    if (msg.direction != Direction::kOut) continue;
    const std::optional<Micros> went = msg.sent_on ? msg.sent_on : msg.claimed_on;
    if (went && *went >= from && *went <= to) return true;
  }
  return false;
}

std::optional<size_t> FindContentDuplicate(const std::vector<RecentMsg>& newest_first, int64_t channel_id,
                                           const std::string& text, const std::string& attachments,
                                           Micros received_on, Micros window) {
  const auto last = std::find_if(newest_first.begin(), newest_first.end(), [&](const RecentMsg& m) {
    return m.direction == Direction::kIn && m.channel_id == channel_id;
  });
  if (last == newest_first.end()) return std::nullopt;
  auto receptions = RepeatedWithin(*last, text, attachments, received_on, window);
  if (!receptions || SentBetween(newest_first, receptions->first, receptions->second)) return std::nullopt;
  return static_cast<size_t>(last - newest_first.begin());
}

}  // namespace courier
