#include "recv/refusal_log.h"

#include <algorithm>

#include "core/log.h"

namespace courier {
namespace {

constexpr size_t kMaxLoggedPath = 200;

// The path, without the query, short and printable.
std::string LoggedPath(const std::string& uri) {
  std::string path = uri.substr(0, uri.find('?'));
  const bool cut = path.size() > kMaxLoggedPath;
  if (cut) path.resize(kMaxLoggedPath);
  for (auto& c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  if (cut) path += "...";
  return path;
}

}  // namespace

const char* RefusalReasonName(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::kNotFound: return "not_found";
    case RefusalReason::kMethodNotAllowed: return "method_not_allowed";
    case RefusalReason::kBodyTooLarge: return "body_too_large";
    case RefusalReason::kUriTooLong: return "uri_too_long";
    case RefusalReason::kHeadersTooLarge: return "headers_too_large";
    case RefusalReason::kInvalidUuid: return "invalid_uuid";
    case RefusalReason::kUnknownChannel: return "unknown_channel";
    case RefusalReason::kWrongType: return "wrong_type";
    case RefusalReason::kBadRequest: return "bad_request";
    case RefusalReason::kUnauthorized: return "unauthorized";
    case RefusalReason::kMalformed: return "malformed";
  }
  return "bad_request";
}

RefusalLog::RefusalLog(Clock& clock, Options options)
    : clock_(clock), options_(options), tokens_(options.burst), refilled_at_(clock.Now()) {}

int64_t RefusalLog::count(RefusalReason reason) const {
  return counts_[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
}

void RefusalLog::Note(const Refusal& refusal) {
  counts_[static_cast<size_t>(refusal.reason)].fetch_add(1, std::memory_order_relaxed);
  int64_t held_back = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Micros now = clock_.Now();
    if (now > refilled_at_) {
      tokens_ = std::min<double>(options_.burst, tokens_ + options_.per_second * static_cast<double>(now - refilled_at_) /
                                                              static_cast<double>(kMicrosPerSecond));
      refilled_at_ = now;
    }
    if (tokens_ < 1) {
      ++held_back_;
      not_logged_total_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    tokens_ -= 1;
    held_back = held_back_;
    held_back_ = 0;
  }
  if (held_back > 0) Log::Unlimited(LogLevel::kWarn, "refusals not logged", {{"count", std::to_string(held_back)}});
  const std::string status = std::to_string(refusal.status), path = LoggedPath(refusal.uri);
  const char* reason = RefusalReasonName(refusal.reason);
  if (refusal.channel_uuid.empty()) {
    Log::Unlimited(LogLevel::kInfo, "request refused", {{"reason", reason}, {"status", status}, {"path", path},
                                  {"remote", refusal.remote}, {"error", refusal.error}});
  } else {
    Log::Unlimited(LogLevel::kInfo, "request refused", {{"reason", reason}, {"status", status}, {"path", path},
                                  {"remote", refusal.remote}, {"channel", refusal.channel_uuid},
                                  {"error", refusal.error}});
  }
}

}  // namespace courier
