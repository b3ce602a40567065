#include "fetch/fetcher.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <algorithm>

#include "core/msg.h"
#include "handlers/common.h"
#include "media/media_type.h"
#include "model/media_reference.h"
#include "util/text.h"

namespace courier {
namespace {

constexpr Micros kLongestRetry = 3600 * kMicrosPerSecond;

// The log keeps the answer's status line and headers; the body is media.
void SummarizeBody(ChannelLog& log, size_t body_bytes) {
  const size_t end = log.response.find("\r\n\r\n");
  if (end == std::string::npos) return;
  log.response.resize(end + 4);
  log.response += "[" + std::to_string(body_bytes) + " bytes]";
}

constexpr int kMaxRedirects = 5;

bool IsRedirect(int status_code) {
  return status_code == 301 || status_code == 302 || status_code == 303 || status_code == 307 || status_code == 308;
}

// A Location header against the URL that answered it.
std::string ResolveLocation(const std::string& base, const std::string& location) {
  try {
    Poco::URI resolved(base);
    resolved.resolve(location);
    return resolved.toString();
  } catch (const Poco::Exception&) {
    return location;
  }
}

// GETs `req`, following the redirects providers answer a media URL with
// (Twilio's 307 to its media host), each hop through the same client and
// policy, the credentials kept only on the same host. The logs of the
// hops before the last are added to `hops`.
handlers::Call Download(HandlerContext& ctx, const Channel& channel, const Msg& msg, HttpRequestSpec req,
                        std::vector<ChannelLog>& hops) {
  auto call = handlers::MakeCall(ctx, channel, msg, req, "Media Fetch");
  for (int hop = 0; hop < kMaxRedirects && IsRedirect(call.exchange.status_code); ++hop) {
    const std::string location = call.exchange.Header("location");
    if (location.empty()) break;
    const std::string next = ResolveLocation(req.url, location);
    if (handlers::UrlOrigin(next) != handlers::UrlOrigin(req.url)) {
      HttpRequestSpec plain;
      plain.url = next;
      req = plain;
    } else {
      req.url = next;
    }
    hops.push_back(std::move(call.log));
    call = handlers::MakeCall(ctx, channel, msg, req, "Media Fetch");
  }
  return call;
}

bool Transient(int status_code) {
  return status_code == 408 || status_code == 425 || status_code == 429 || status_code >= 500;
}

}  // namespace

Fetcher::Fetcher(HttpClient& http, MediaStore& media, Clock& clock, FetcherOptions options)
    : http_(http), media_(media), clock_(clock), options_(std::move(options)) {
  while (!options_.media_url.empty() && options_.media_url.back() == '/') options_.media_url.pop_back();
}

FetchOutcome Fetcher::RetryOrFail(const AttachmentFetch& fetch, const std::string& error) const {
  FetchOutcome out;
  out.fetch_id = fetch.id;
  if (fetch.attempts >= options_.max_attempts) {
    out.state = FetchState::kFailed;
    out.error = error + " (gave up after " + std::to_string(fetch.attempts) + " attempts)";
    return out;
  }
  out.state = FetchState::kPending;
  out.error = error;
  Micros wait = options_.first_retry;
  for (int i = 1; i < fetch.attempts && wait < kLongestRetry; ++i) wait *= 2;
  out.retry_on = clock_.Now() + std::min(wait, kLongestRetry);
  return out;
}

FetchOutcome Fetcher::Fetch(const AttachmentFetch& fetch, const Channel& channel, const ChannelHandler* handler) {
  FetchOutcome out;
  const auto [declared, url] = FetchedAttachmentParts(fetch.source);
  HandlerContext ctx{http_, clock_, ""};
  Msg msg;
  msg.id = fetch.msg_id;
  msg.uuid = fetch.msg_uuid;
  handlers::Call call;
  std::vector<ChannelLog> logs;  // of this attempt, the last one's added at the end
  // A provider that refused its token in a 2xx (RefusedMedia) has
  // forgotten it: the download goes once more, with a new one.
  for (int attempt = 1;; ++attempt) {
    HttpRequestSpec req;
    if (handler != nullptr) {
      // A token request's log is kept when it fails (the fetch's log
      // then); a token bought is the send side's business to show.
      std::vector<ChannelLog> token_logs;
      auto authorized = handler->MediaRequestWithToken(channel, url, ctx, token_logs);
      if (!authorized.ok()) {
        FetchOutcome retried = RetryOrFail(fetch, "no media token: " + authorized.status().message());
        for (auto& log : token_logs) logs.push_back(std::move(log));
        retried.logs = std::move(logs);
        return retried;
      }
      req = std::move(*authorized);
    } else {
      req.url = url;
    }
    call = Download(ctx, channel, msg, req, logs);
    if (handler == nullptr || !call.exchange.ok()) break;
    const auto refused = handler->RefusedMedia(channel, req, call.exchange);
    if (!refused) break;
    // The answer is the provider's error, kept whole in the log.
    call.log.error = refused->error;
    logs.push_back(std::move(call.log));
    if (refused->token_refused && attempt == 1) continue;
    FetchOutcome retried = RetryOrFail(fetch, refused->error);
    retried.logs = std::move(logs);
    return retried;
  }
  SummarizeBody(call.log, call.exchange.body.size());
  ChannelLog& log = call.log;
  const HttpExchange& ex = call.exchange;
  // The outcome with the logs, the last log's error the outcome's when
  // the exchange itself went well.
  auto with_log = [&](FetchOutcome outcome) {
    if (log.error.empty()) log.error = outcome.error;
    logs.push_back(std::move(log));
    outcome.logs = std::move(logs);
    return outcome;
  };
  auto fail = [&](const std::string& error) {
    FetchOutcome failed;
    failed.fetch_id = fetch.id;
    failed.state = FetchState::kFailed;
    failed.error = error;
    return with_log(std::move(failed));
  };
  if (ex.refused) return fail("refused by the outbound policy: " + ex.error);
  if (ex.status_code == 0) {
    if (ex.error.find("response larger than") != std::string::npos)
      return fail("larger than " + std::to_string(options_.max_bytes) + " bytes");
    return with_log(RetryOrFail(fetch, "no answer: " + ex.error));
  }
  if (!ex.ok()) {
    const std::string error = "provider answered " + std::to_string(ex.status_code);
    if (Transient(ex.status_code)) return with_log(RetryOrFail(fetch, error));
    return fail(error);
  }
  if (static_cast<int64_t>(ex.body.size()) > options_.max_bytes)
    return fail("larger than " + std::to_string(options_.max_bytes) + " bytes");
  auto sniffed = SniffMediaType(ex.body);
  const std::string type =
      ChooseMediaType(declared.empty() ? ex.Header("content-type") : declared, sniffed.ok() ? *sniffed : "");
  if (MediaTypeRefused(type, options_.refused_types)) return fail("media type " + type + " refused");
  auto stored = media_.Put(ex.body);
  if (!stored.ok()) return with_log(RetryOrFail(fetch, "media store: " + stored.status().ToString()));
  out.fetch_id = fetch.id;
  out.state = FetchState::kStored;
  out.sha256 = stored->sha256;
  out.content_type = type;
  out.size = stored->size;
  out.url = MediaFileUrl(options_.media_url, stored->sha256, type);
  return with_log(std::move(out));
}

}  // namespace courier
