// Fuzz target: the spool file decoder (lib/spool/intake_codec), which
// courier-flush runs on whatever it finds in the spool directory. Any
// body either decodes or is refused with a Status; one that decodes
// encodes to a body that decodes to the same encoding (what is replayed
// is what was spooled).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "spool/intake_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto decoded = courier::DecodeIntake(body);
  if (!decoded.ok()) return 0;
  const std::string encoded = courier::EncodeIntake(*decoded);
  auto again = courier::DecodeIntake(encoded);
  FUZZ_CHECK(again.ok(), "re-encoded intake refused: " + again.status().message() + "\n" + encoded);
  const std::string encoded_again = courier::EncodeIntake(*again);
  FUZZ_CHECK(encoded_again == encoded, "first:\n" + encoded + "\nsecond:\n" + encoded_again);
  return 0;
}
