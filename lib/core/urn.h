#pragma once
// URN: a contact address, "scheme:path" (tel:+250788383383, telegram:12345).
//
// Construction validates the scheme and normalises the path per scheme;
// tel numbers become E.164 with libphonenumber using the channel's country,
// falling back to the cleaned input when the number is not valid (short
// codes, alphanumeric senders). Values are immutable and cheap to copy.

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace courier {

class URN {
 public:
  URN() = default;

  // Parses "scheme:path". The scheme must be one of KnownSchemes(); tel
  // paths are normalised with the given country (ISO 3166 alpha-2 or "").
  static Result<URN> Parse(std::string_view urn, std::string_view country = "");
  // Builds from parts; the scheme is lower-cased and validated.
  static Result<URN> FromParts(std::string_view scheme, std::string_view path,
                               std::string_view country = "");
  // tel: URN from a number as a provider sent it, in the channel's country.
  static Result<URN> ForTel(std::string_view number, std::string_view country);

  const std::string& scheme() const { return scheme_; }
  const std::string& path() const { return path_; }
  // "scheme:path"
  std::string ToString() const { return scheme_ + ":" + path_; }
  bool empty() const { return scheme_.empty(); }

  static const std::vector<std::string>& KnownSchemes();
  static bool IsKnownScheme(std::string_view scheme);

  friend bool operator==(const URN& a, const URN& b) {
    return a.scheme_ == b.scheme_ && a.path_ == b.path_;
  }

 private:
  URN(std::string scheme, std::string path) : scheme_(std::move(scheme)), path_(std::move(path)) {}
  std::string scheme_;
  std::string path_;
};

// The reference's tel normalisation (see courier-core.md 3): keep [0-9a-z]
// after lower-casing; numbers of 11+ digits not starting with 0 are read as
// international; valid numbers become E.164, others stay cleaned.
std::string NormalizeTelNumber(std::string_view number, std::string_view country);

// A number as dialled inside its country, as an integer: libphonenumber's
// national significant number of `number` read in `country`, without the
// country code and without leading zeros (+250788383383 in RW ->
// "788383383"). For gateways that want local numbers (EX use_national,
// the reference's ToLocalPhone). `number` unchanged when it does not parse.
std::string LocalPhoneNumber(std::string_view number, std::string_view country);

}  // namespace courier
