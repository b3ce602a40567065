#include "core/urn.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <unordered_map>

#include "util/text.h"

namespace courier {

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

bool HasSpace(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

Status InvalidPath(std::string_view scheme, std::string_view path, const char* why) {
  return Status::InvalidArgument("invalid path for scheme '" + std::string(scheme) + "': '" +
                                 std::string(path) + "' " + why);
}

// A WhatsApp business-scoped user id, the id of a user who hides their
// number behind a username: a two-letter country code, a period, and up
// to 128 letters and digits, "ENT." before them for an id shared by a
// group of businesses (US.13491208655302741918, US.ENT.1181579921288684).
bool IsWhatsAppBsuid(std::string_view path) {
  if (path.size() < 4 || path[2] != '.') return false;
  for (size_t i = 0; i < 2; ++i)
    if (path[i] < 'A' || path[i] > 'Z') return false;
  std::string_view id = path.substr(3);
  if (id.substr(0, 4) == "ENT.") id = id.substr(4);
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  return true;
}

// Returns the normalised path for `scheme`, or why it is not acceptable.
// `scheme` is already lower-cased and known.
Result<std::string> NormalizePath(const std::string& scheme, std::string_view path,
                                  std::string_view country) {
  if (path.empty()) return InvalidPath(scheme, path, "is empty");
  if (scheme == "tel") {
    std::string n = NormalizeTelNumber(path, country);
    if (n.empty()) return InvalidPath(scheme, path, "has no digits or letters");
    return n;
  }
  if (scheme == "telegram") {
    // Group and channel chats have negative ids.
    std::string_view digits = path.size() > 1 && path[0] == '-' ? path.substr(1) : path;
    if (!AllDigits(digits)) return InvalidPath(scheme, path, "is not numeric");
    return std::string(path);
  }
  if (scheme == "whatsapp") {
    if (!AllDigits(path) && !IsWhatsAppBsuid(path))
      return InvalidPath(scheme, path, "is neither a number nor a business-scoped user id");
    return std::string(path);
  }
  if (scheme == "twitterid") {
    if (!AllDigits(path)) return InvalidPath(scheme, path, "is not numeric");
    return std::string(path);
  }
  if (scheme == "facebook") {
    // Page-scoped user ids are numeric; "ref:<referrer>" identifies a
    // contact known only through a referral link (no whitespace in it).
    constexpr std::string_view kRef = "ref:";
    if (path.substr(0, kRef.size()) == kRef) {
      std::string_view ref = path.substr(kRef.size());
      if (ref.empty() || HasSpace(ref)) return InvalidPath(scheme, path, "is not a valid referral");
      return std::string(path);
    }
    if (!AllDigits(path)) return InvalidPath(scheme, path, "is not numeric");
    return std::string(path);
  }
  if (HasSpace(path)) return InvalidPath(scheme, path, "contains whitespace");
  return std::string(path);
}

}  // namespace

namespace {

std::string NormalizeTelNumberUncached(std::string_view number, std::string_view country);

// libphonenumber parses through ICU regular expressions: about 25 us a
// number, a quarter of courier-recv's work on a webhook. The same senders
// write again and again (conversations, surveys), so results are kept, in
// a bounded cache: 16 shards of at most 1,024 entries, a shard simply
// emptied when full.
class TelNumberCache {
 public:
  std::string Normalize(std::string_view number, std::string_view country) {
    // The country's length leads the key: with a plain separator, a
    // country holding that separator would make two different pairs one
    // key (fuzz_urn found ("\0ll", "ll") answered as ("", "ll\0ll")).
    std::string key = std::to_string(country.size());
    key.reserve(key.size() + 1 + country.size() + number.size());
    key.append(1, ':').append(country).append(number);
    Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
    {
      std::lock_guard<std::mutex> lock(shard.mu);
      auto it = shard.entries.find(key);
      if (it != shard.entries.end()) return it->second;
    }
    std::string normalized = NormalizeTelNumberUncached(number, country);
    std::lock_guard<std::mutex> lock(shard.mu);
    if (shard.entries.size() >= kPerShard) shard.entries.clear();
    shard.entries.emplace(std::move(key), normalized);
    return normalized;
  }

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kPerShard = 1024;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::string> entries;
  };
  Shard shards_[kShards];
};

}  // namespace

std::string NormalizeTelNumber(std::string_view number, std::string_view country) {
  static TelNumberCache* cache = new TelNumberCache;  // never destroyed: used until exit
  return cache->Normalize(number, country);
}

namespace {

std::string NormalizeTelNumberUncached(std::string_view number, std::string_view country) {
  // 1. Lower-case and keep only [0-9a-z]; this also drops '+', spaces,
  //    brackets and dashes (trimming is implied).
  std::string cleaned;
  cleaned.reserve(number.size());
  for (char ch : number) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) cleaned.push_back(c);
  }
  if (cleaned.empty()) return cleaned;

  // 2. A number sent with a leading '+' is first read as international,
  //    however short: an E.164 result ("+2206550655", 10 digits) has to
  //    normalise to itself when it comes back (an app's send, a stored
  //    contact), not lose its country code. When that reading is not a
  //    valid number, the reference's rule follows as for any number.
  // 3. Long numbers not starting with 0 already carry a country code (the
  //    '+' never sent); others are read in the channel's country.
  // 4. Valid numbers become E.164; anything else (short codes,
  //    alphanumeric senders, numbers without a usable region) stays as
  //    cleaned.
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  auto e164 = [&util](const std::string& text, const std::string& region) -> std::string {
    PhoneNumber parsed;
    if (util.Parse(text, region, &parsed) != PhoneNumberUtil::NO_PARSING_ERROR) return "";
    if (!util.IsValidNumber(parsed)) return "";
    std::string formatted;
    util.Format(parsed, PhoneNumberUtil::E164, &formatted);
    return formatted;
  };
  const size_t first = number.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && number[first] == '+') {
    // libphonenumber's name for "no default region" is "ZZ".
    if (std::string international = e164("+" + cleaned, "ZZ"); !international.empty()) return international;
  }
  std::string to_parse = cleaned;
  std::string region = ToUpper(country);
  if (cleaned.size() >= 11 && cleaned[0] != '0') to_parse = "+" + cleaned;
  if (region.empty()) region = "ZZ";
  std::string formatted = e164(to_parse, region);
  return formatted.empty() ? cleaned : formatted;
}

}  // namespace

std::string LocalPhoneNumber(std::string_view number, std::string_view country) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  const std::string region = ToUpper(country);
  PhoneNumber parsed;
  if (util.Parse(std::string(number), region.empty() ? "ZZ" : region, &parsed) != PhoneNumberUtil::NO_PARSING_ERROR)
    return std::string(number);
  return std::to_string(parsed.national_number());
}

const std::vector<std::string>& URN::KnownSchemes() {
  static const std::vector<std::string> kSchemes = {
      "tel",       "facebook", "telegram", "twitter",   "twitterid", "whatsapp", "viber",
      "line",      "instagram", "fcm",     "ext",       "mailto",    "slack",    "discord",
      "vk",        "wechat",   "jiochat",  "webchat",   "freshchat", "rocketchat",
  };
  return kSchemes;
}

bool URN::IsKnownScheme(std::string_view scheme) {
  const auto& known = KnownSchemes();
  return std::find(known.begin(), known.end(), scheme) != known.end();
}

Result<URN> URN::FromParts(std::string_view scheme, std::string_view path,
                           std::string_view country) {
  std::string s = ToLower(scheme);
  if (!IsKnownScheme(s)) return Status::InvalidArgument("invalid scheme '" + s + "'");
  Result<std::string> p = NormalizePath(s, path, country);
  if (!p.ok()) return p.status();
  return URN(std::move(s), std::move(p).value());
}

Result<URN> URN::Parse(std::string_view urn, std::string_view country) {
  auto colon = urn.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("invalid urn '" + std::string(urn) + "': missing scheme");
  }
  return FromParts(urn.substr(0, colon), urn.substr(colon + 1), country);
}

Result<URN> URN::ForTel(std::string_view number, std::string_view country) {
  return FromParts("tel", number, country);
}

}  // namespace courier
