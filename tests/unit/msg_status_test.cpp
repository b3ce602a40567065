// Msg status codes, names and the transition rules the store applies to
// provider callbacks.
#include "core/msg_status.h"

#include <gtest/gtest.h>

#include <string>

namespace courier {
namespace {

constexpr MsgStatus kOrder[8] = {
    MsgStatus::kPending, MsgStatus::kQueued,    MsgStatus::kWired,   MsgStatus::kSent,
    MsgStatus::kDelivered, MsgStatus::kRead, MsgStatus::kErrored, MsgStatus::kFailed,
};

// kAllowed[from][to], rows and columns in kOrder: P Q W S D R E F.
// clang-format off
constexpr bool kAllowed[8][8] = {
    //        P  Q  W  S  D  R  E  F
    /* P */ { 1, 0, 0, 0, 0, 0, 0, 0 },
    /* Q */ { 0, 1, 1, 1, 1, 0, 1, 1 },
    /* W */ { 0, 0, 1, 1, 1, 1, 1, 1 },
    /* S */ { 0, 0, 0, 1, 1, 1, 1, 1 },
    /* D */ { 0, 0, 0, 0, 1, 1, 0, 0 },
    /* R */ { 0, 0, 0, 0, 0, 1, 0, 0 },
    /* E */ { 0, 1, 1, 1, 1, 0, 1, 1 },
    /* F */ { 0, 1, 0, 0, 0, 0, 0, 1 },
};
// clang-format on

TEST(MsgStatus, FullTransitionMatrix) {
  int allowed = 0;
  for (int f = 0; f < 8; ++f) {
    for (int t = 0; t < 8; ++t) {
      MsgStatus from = kOrder[f];
      MsgStatus to = kOrder[t];
      EXPECT_EQ(kAllowed[f][t], TransitionAllowed(from, to))
          << MsgStatusCode(from) << " -> " << MsgStatusCode(to);
      allowed += TransitionAllowed(from, to) ? 1 : 0;
    }
  }
  EXPECT_EQ(29, allowed);
}

TEST(MsgStatus, SpotChecks) {
  // Repeats are allowed for every status.
  for (MsgStatus s : kOrder) EXPECT_TRUE(TransitionAllowed(s, s)) << MsgStatusCode(s);
  // Nothing moves backwards from delivered.
  EXPECT_FALSE(TransitionAllowed(MsgStatus::kDelivered, MsgStatus::kWired));
  EXPECT_FALSE(TransitionAllowed(MsgStatus::kDelivered, MsgStatus::kSent));
  EXPECT_FALSE(TransitionAllowed(MsgStatus::kDelivered, MsgStatus::kFailed));
  // A late delivery report after an error wins.
  EXPECT_TRUE(TransitionAllowed(MsgStatus::kErrored, MsgStatus::kDelivered));
  // Only an operator's retry leaves F, and only to Q.
  EXPECT_TRUE(TransitionAllowed(MsgStatus::kFailed, MsgStatus::kQueued));
  EXPECT_FALSE(TransitionAllowed(MsgStatus::kFailed, MsgStatus::kDelivered));
  // Q is never re-entered from an in-flight status.
  EXPECT_FALSE(TransitionAllowed(MsgStatus::kWired, MsgStatus::kQueued));
  EXPECT_FALSE(TransitionAllowed(MsgStatus::kSent, MsgStatus::kQueued));
  // P is for incoming msgs only.
  EXPECT_FALSE(TransitionAllowed(MsgStatus::kQueued, MsgStatus::kPending));
  EXPECT_FALSE(TransitionAllowed(MsgStatus::kPending, MsgStatus::kQueued));
}

TEST(MsgStatus, IsFinal) {
  const bool kFinal[8] = {false, false, false, false, true, true, false, true};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(kFinal[i], IsFinal(kOrder[i])) << MsgStatusCode(kOrder[i]);
}

TEST(MsgStatus, CodesAndNames) {
  struct Case {
    MsgStatus s;
    char code;
    const char* name;
  };
  const Case cases[] = {
      {MsgStatus::kPending, 'P', "pending"},   {MsgStatus::kQueued, 'Q', "queued"},
      {MsgStatus::kWired, 'W', "wired"},       {MsgStatus::kSent, 'S', "sent"},
      {MsgStatus::kDelivered, 'D', "delivered"}, {MsgStatus::kRead, 'R', "read"},
      {MsgStatus::kErrored, 'E', "errored"},   {MsgStatus::kFailed, 'F', "failed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.code, MsgStatusCode(c.s));
    EXPECT_EQ(std::string(1, c.code), MsgStatusString(c.s));
    EXPECT_STREQ(c.name, MsgStatusName(c.s));

    EXPECT_EQ(c.s, ParseMsgStatus(std::string(1, c.code)));
    EXPECT_EQ(c.s, ParseMsgStatus(std::string(1, static_cast<char>(c.code + ('a' - 'A')))));
    EXPECT_EQ(c.s, ParseMsgStatus(c.name));
    std::string upper = c.name;
    for (char& ch : upper) ch = static_cast<char>(ch - 'a' + 'A');
    EXPECT_EQ(c.s, ParseMsgStatus(upper));
    std::string mixed = c.name;
    mixed[0] = static_cast<char>(mixed[0] - 'a' + 'A');
    EXPECT_EQ(c.s, ParseMsgStatus(mixed));
  }
}

TEST(MsgStatus, ParseRejectsUnknown) {
  for (const char* bad : {"", "X", "x", "PQ", "pend", "deliver", "delivered ", " sent", "unknown",
                          "0"}) {
    EXPECT_FALSE(ParseMsgStatus(bad).has_value()) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace courier
