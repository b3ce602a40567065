// Fuzz target: what courier-flush runs on whatever it finds in the spool
// directory. An input that starts "courier-spool " is a whole spool file
// (lib/spool/spool_file: headers, counts, lengths, checksums): it decodes
// or is refused with a Status, and bodies that decode encode to a file
// that decodes to the same bodies. Any other input is one body
// (lib/spool/intake_codec): it decodes or is refused, and one that
// decodes encodes to a body that decodes to the same encoding (what is
// replayed is what was spooled).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "spool/intake_codec.h"
#include "spool/spool_file.h"

namespace {

void CheckBody(const std::string& body) {
  auto decoded = courier::DecodeIntake(body);
  if (!decoded.ok()) return;
  const std::string encoded = courier::EncodeIntake(*decoded);
  auto again = courier::DecodeIntake(encoded);
  FUZZ_CHECK(again.ok(), "re-encoded intake refused: " + again.status().message() + "\n" + encoded);
  const std::string encoded_again = courier::EncodeIntake(*again);
  FUZZ_CHECK(encoded_again == encoded, "first:\n" + encoded + "\nsecond:\n" + encoded_again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  static const std::string kMagic = "courier-spool ";
  if (input.compare(0, kMagic.size(), kMagic) != 0) {
    CheckBody(input);
    return 0;
  }
  auto bodies = courier::DecodeSpoolFile(input);
  if (!bodies.ok()) return 0;
  FUZZ_CHECK(!bodies->empty(), "a spool file decoded to no bodies");
  auto again = courier::DecodeSpoolFile(courier::EncodeSpoolFile(*bodies));
  FUZZ_CHECK(again.ok() && *again == *bodies, "a spool file's bodies did not survive encoding again");
  for (const auto& body : *bodies) CheckBody(body);
  return 0;
}
