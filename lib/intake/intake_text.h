#pragma once
// The guarantee that no text enters the store ill-formed: every string of
// an Intake (msg text, contact name, URN, attachment URLs, quick replies,
// external ids, status errors, URN auths, and the channel logs' bodies,
// which hold a provider's raw bytes) made well-formed UTF-8 by
// util/utf8.h's ValidUtf8 (U+FFFD per maximal subpart).
//
// Handlers decode what a provider declares (Kannel's charset, a form's
// charset); what they pass on undecoded is repaired here, where every
// intake goes on its way to the store from a handler: IntakeWriter's
// Write/WriteAsync (courier-recv, courier-send). courier-flush's replay
// needs no pass of its own: an intake decoded from a spool file is
// well-formed already (spool/intake_codec.h reads ill-formed bytes an
// older file holds as U+FFFD).
//
// Thread-safety: pure functions.
#include "model/intake.h"

namespace courier {

// Repairs every string of `intake` in place; returns how many strings
// were ill-formed (0: nothing changed).
int RepairUtf8(Intake& intake);

}  // namespace courier
