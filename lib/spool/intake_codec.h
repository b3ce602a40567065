#pragma once
// An Intake as the JSON body of a spool file, so courier-flush replays
// exactly what courier-recv would have committed (same msg uuids, same
// logs). Decoding validates shape and field types; a file that fails is
// bad data, moved to spool/bad/ with the error as its reason.
#include <string>

#include "store/store.h"

namespace courier {

std::string EncodeIntake(const Intake& intake);
Result<Intake> DecodeIntake(const std::string& body);

}  // namespace courier
