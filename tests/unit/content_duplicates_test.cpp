#include "store/content_duplicates.h"

#include <gtest/gtest.h>

namespace courier {
namespace {

constexpr Micros kSecond = kMicrosPerSecond;
constexpr Micros kWindow = 4 * kSecond;
constexpr int64_t kChannel = 7, kOtherChannel = 8;
constexpr Micros kT = 1'000'000 * kSecond;  // the earlier msg's reception

RecentMsg In(int64_t id, const std::string& text, Micros received_on, int64_t channel = kChannel,
             const std::string& attachments = "[]") {
  RecentMsg m;
  m.id = id;
  m.uuid = "uuid-" + std::to_string(id);
  m.direction = Direction::kIn;
  m.channel_id = channel;
  m.text = text;
  m.attachments = attachments;
  m.received_on = received_on;
  return m;
}

RecentMsg Out(int64_t id, std::optional<Micros> sent_on, std::optional<Micros> claimed_on = std::nullopt) {
  RecentMsg m;
  m.id = id;
  m.uuid = "uuid-" + std::to_string(id);
  m.direction = Direction::kOut;
  m.channel_id = kChannel;
  m.text = "a reply";
  m.attachments = "[]";
  m.sent_on = sent_on;
  m.claimed_on = claimed_on;
  return m;
}

struct Case {
  const char* name;
  std::vector<RecentMsg> newest_first;
  std::string text = "yes";
  std::string attachments = "[]";
  Micros received_on = kT + kSecond;
  Micros window = kWindow;
  std::optional<size_t> repeats;
};

TEST(ContentDuplicatesTest, JudgesEachCase) {
  const std::string photo = "[\"image/jpeg:https://x.example/1.jpg\"]";
  const std::vector<Case> cases = {
      {.name = "the same words a second later", .newest_first = {In(1, "yes", kT)}, .repeats = 0},
      {.name = "nothing received before", .newest_first = {}, .repeats = std::nullopt},
      {.name = "other words", .newest_first = {In(1, "no", kT)}, .repeats = std::nullopt},
      {.name = "words differing in case only", .newest_first = {In(1, "Yes", kT)}, .repeats = std::nullopt},
      {.name = "at the edge of the window", .newest_first = {In(1, "yes", kT)}, .received_on = kT + kWindow, .repeats = 0},
      {.name = "past the window", .newest_first = {In(1, "yes", kT)}, .received_on = kT + kWindow + 1, .repeats = std::nullopt},
      {.name = "the window off", .newest_first = {In(1, "yes", kT)}, .window = 0, .repeats = std::nullopt},
      {.name = "written after its retry (a replayed spool file)", .newest_first = {In(1, "yes", kT + 2 * kSecond)}, .received_on = kT,
       .repeats = 0},
      {.name = "the same words on another channel", .newest_first = {In(1, "yes", kT, kOtherChannel)}, .repeats = std::nullopt},
      {.name = "another channel's msg newer than this channel's", .newest_first = {In(2, "hi", kT, kOtherChannel), In(1, "yes", kT)},
       .repeats = 1},
      {.name = "the same words, then other words: only the newest counts", .newest_first = {In(2, "no", kT), In(1, "yes", kT)},
       .repeats = std::nullopt},
      {.name = "the same attachment", .newest_first = {In(1, "", kT, kChannel, photo)}, .text = "", .attachments = photo, .repeats = 0},
      {.name = "the same text with an attachment more", .newest_first = {In(1, "yes", kT)}, .attachments = photo, .repeats = std::nullopt},
      {.name = "a reply sent in between", .newest_first = {Out(2, kT + kSecond / 2), In(1, "yes", kT)}, .repeats = std::nullopt},
      {.name = "a reply in flight in between", .newest_first = {Out(2, std::nullopt, kT + kSecond / 2), In(1, "yes", kT)},
       .repeats = std::nullopt},
      {.name = "a reply queued and not yet sent", .newest_first = {Out(2, std::nullopt), In(1, "yes", kT)}, .repeats = 1},
      {.name = "a reply sent before the first", .newest_first = {In(2, "yes", kT), Out(1, kT - kSecond)}, .repeats = 0},
      {.name = "a reply queued before the first and sent in between", .newest_first = {In(2, "yes", kT), Out(1, kT + kSecond / 2)},
       .repeats = std::nullopt},
      {.name = "a reply sent after both (a replay)", .newest_first = {Out(2, kT + 3 * kSecond), In(1, "yes", kT)}, .repeats = 1},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FindContentDuplicate(c.newest_first, kChannel, c.text, c.attachments, c.received_on, c.window),
              c.repeats)
        << c.name;
  }
}

}  // namespace
}  // namespace courier
