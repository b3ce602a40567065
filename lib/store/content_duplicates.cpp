#include "store/content_duplicates.h"

#include <algorithm>

namespace courier {

std::optional<size_t> FindContentDuplicate(const std::vector<RecentMsg>& newest_first, int64_t channel_id,
                                           const std::string& text, const std::string& attachments,
                                           Micros received_on, Micros window) {
  if (window <= 0) return std::nullopt;
  size_t candidate = newest_first.size();
  for (size_t i = 0; i < newest_first.size(); ++i) {
    if (newest_first[i].direction == Direction::kIn && newest_first[i].channel_id == channel_id) {
      candidate = i;
      break;
    }
  }
  if (candidate == newest_first.size()) return std::nullopt;
  const RecentMsg& first = newest_first[candidate];
  if (!first.received_on || first.text != text || first.attachments != attachments) return std::nullopt;
  // Either may be the earlier: a spooled webhook is written after its
  // retry when the store was down for the first and back for the second.
  const Micros from = std::min(*first.received_on, received_on);
  const Micros to = std::max(*first.received_on, received_on);
  if (to - from > window) return std::nullopt;
  for (const auto& msg : newest_first) {
    if (msg.direction != Direction::kOut) continue;
    const std::optional<Micros> went = msg.sent_on ? msg.sent_on : msg.claimed_on;
    if (went && *went >= from && *went <= to) return std::nullopt;
  }
  return candidate;
}

}  // namespace courier
