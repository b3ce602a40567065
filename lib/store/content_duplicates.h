#pragma once
// Content duplicates: how the store tells a provider's retry of a webhook
// that carries no id of the msg (External, and any type whose payload has
// none) from a user who really sent the same words again.
//
// The newest incoming msg of the URN on the same channel is the one this
// msg repeats when it has the same text and the same attachments and the
// two were received within the window of each other (received_on, not
// the time of writing, so a spool file replayed long after is judged as
// the receiver would have judged it). A msg courier sent to the URN in
// between (its sent_on, or its claim while in flight, between the two
// receptions) ends the window: a user who answers "yes" twice around our
// question is heard twice. Msgs with a provider id are told apart by that
// id and never by their content.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/msg.h"

namespace courier {

// One of a URN's newest msgs, as the judgement needs it.
struct RecentMsg {
  int64_t id = 0;
  std::string uuid;
  Direction direction = Direction::kIn;
  int64_t channel_id = 0;
  std::string text;
  std::string attachments;  // as stored: a JSON array
  std::optional<Micros> received_on, sent_on, claimed_on;
};

// How many of a URN's newest outgoing msgs (by id) are read to find one
// sent between the two receptions: it is newer than the first of them, or
// nearly so.
inline constexpr int kRecentOutgoingJudged = 8;

// The judgement in two steps, so that the usual msg (other words than the
// URN's last, or long after it) costs one read of one row:
//
// 1. `last` is the newest incoming msg of the URN on the channel. When an
//    incoming msg with `text` and `attachments` (JSON, as stored) received
//    on `received_on` repeats it (same words, receptions within `window`
//    of each other), the receptions as [earlier, later]; else nullopt.
std::optional<std::pair<Micros, Micros>> RepeatedWithin(const RecentMsg& last, const std::string& text,
                                                        const std::string& attachments, Micros received_on,
                                                        Micros window);
// 2. Whether one of `outgoing` (the URN's newest outgoing msgs) went out,
//    by its sent_on or else its claim, within [from, to]: then it is not a
//    retry.
bool SentBetween(const std::vector<RecentMsg>& outgoing, Micros from, Micros to);

// Both steps over one list of a URN's msgs, newest first: the index of the
// msg repeated, or nullopt (the whole rule in one call, for tests).
std::optional<size_t> FindContentDuplicate(const std::vector<RecentMsg>& newest_first, int64_t channel_id,
                                           const std::string& text, const std::string& attachments,
                                           Micros received_on, Micros window);

}  // namespace courier
