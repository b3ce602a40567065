// Fuzz target: URN parsing and normalisation (lib/core/urn), fed by every
// webhook's sender. The first line is the channel's country, the rest the
// URN. A URN that parses is normalised for good: its text parses again to
// the same URN. A number read as tel by ForTel is the same check.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/urn.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view country;
  if (size_t eol = in.find('\n'); eol != std::string_view::npos) {
    country = in.substr(0, eol);
    in = in.substr(eol + 1);
  }
  using courier::URN;
  if (auto urn = URN::Parse(in, country); urn.ok()) {
    auto again = URN::Parse(urn->ToString(), country);
    FUZZ_CHECK(again.ok(), urn->ToString() + " does not parse: " + again.status().message());
    FUZZ_CHECK(*again == *urn, urn->ToString() + " parses as " + again->ToString());
  }
  if (auto tel = URN::ForTel(in, country); tel.ok()) {
    auto again = URN::Parse(tel->ToString(), country);
    FUZZ_CHECK(again.ok(), tel->ToString() + " does not parse: " + again.status().message());
    FUZZ_CHECK(*again == *tel, tel->ToString() + " parses as " + again->ToString());
  }
  if (size_t colon = in.find(':'); colon != std::string_view::npos)
    (void)URN::FromParts(in.substr(0, colon), in.substr(colon + 1), country);
  courier::NormalizeTelNumber(in, country);
  return 0;
}
