#pragma once
// UrnAuthUpdate: a credential the contact's app gave for reaching it on
// one URN, and what writing it did.
#include <cstdint>
#include <string>

#include "core/clock.h"

namespace courier {

// A credential the contact's app gave for reaching it on one URN (FCM: the
// device's registration token), kept with the URN as its auth and handed to
// the sender with every msg claimed for that URN (Msg::urn_auth). Creates
// the contact (named `contact_name`) when the URN is new; a non-empty
// `contact_name` also renames an existing contact.
struct UrnAuthUpdate {
  std::string urn;
  std::string auth;
  std::string contact_name;
  // When the app sent it. An update older than the URN's stored auth is
  // not applied, so a spool file replayed late never brings back a token
  // the app has since replaced. 0: when it is written.
  Micros sent_on = 0;
};

// What an UrnAuthUpdate was applied to.
struct UrnAuthResult {
  int64_t contact_id = 0;
  std::string contact_uuid;
  bool applied = false;  // false: the URN holds a newer auth, kept
};

}  // namespace courier
