#pragma once
// An Intake as the JSON body of a spool file, so courier-flush replays
// exactly what courier-recv would have committed (same msg uuids, same
// logs). Decoding validates shape and field types; a file that fails is
// bad data, moved to spool/bad/ with the error as its reason. Ill-formed
// UTF-8 is not bad data: EncodeIntake never writes it (JsonWriter), and
// DecodeIntake reads what older versions wrote with each ill-formed
// sequence as U+FFFD (util/utf8.h's ValidUtf8), so a msg promised to a
// provider still reaches the store.
//
// Versions of the body ("version", absent in version 1): 2 added
// "urn_auths", 3 "duplicate_window_ms", 4 "channel_events". Every version up to kIntakeFormatVersion decodes (a field
// a version lacks reads empty), so files spooled before an upgrade replay
// after it; a newer version is refused by name rather than replayed
// without the fields this program does not know.
#include <string>

#include "core/status.h"
#include "model/intake.h"

namespace courier {

inline constexpr int kIntakeFormatVersion = 4;

std::string EncodeIntake(const Intake& intake);
// Sets *repaired_utf8, when given, to whether `body` held ill-formed
// UTF-8 that was read as U+FFFD (a file from an older version).
Result<Intake> DecodeIntake(const std::string& body, bool* repaired_utf8 = nullptr);

}  // namespace courier
