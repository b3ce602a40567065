#include "handlers/google_service_account.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>

#include "core/json.h"
#include "core/json_writer.h"
#include "handlers/access_token_request.h"
#include "handlers/common.h"

namespace courier::handlers {
namespace {

constexpr int64_t kAssertionLifetimeSeconds = 3600;  // the most Google accepts

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// An encrypted key must not make OpenSSL prompt on the terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

// OpenSSL's reason for the last failure, and its error queue emptied so
// the next caller on this thread starts clean.
std::string OpenSslError(const std::string& what) {
  unsigned long code = ERR_get_error();
  std::string text = what;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text += ": ";
    text += buf;
  }
  ERR_clear_error();
  return text;
}

Result<std::string> SignRs256(const std::string& pem, const std::string& data) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::Internal(OpenSslError("cannot read private_key"));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) return Status::InvalidArgument(OpenSslError("private_key is not a PEM private key"));
  if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    return Status::InvalidArgument("private_key is not an RSA key (RS256 needs one)");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSignUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestSignFinal(ctx.get(), nullptr, &length) != 1) {
    return Status::Internal(OpenSslError("cannot sign with private_key"));
  }
  std::string signature(length, '\0');
  if (EVP_DigestSignFinal(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length) != 1) {
    return Status::Internal(OpenSslError("cannot sign with private_key"));
  }
  signature.resize(length);
  return signature;
}

// Everything a token depends on: another key, account, endpoint or scope
// is another token.
}  // namespace

std::string Base64Url(const std::string& bytes) {
  static const char* const kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    if (rest == 2) out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

Result<ServiceAccount> ParseServiceAccount(const std::string& credentials_json) {
  auto parsed = json::ParseObject(credentials_json);
  // Not the parser's text: it may quote the credentials.
  if (!parsed.ok()) return Status::InvalidArgument("service account credentials are not a JSON object");
  const json::ObjectPtr& o = *parsed;
  ServiceAccount account;
  account.client_email = json::GetStringOrEmpty(o, "client_email");
  account.private_key = json::GetStringOrEmpty(o, "private_key");
  account.private_key_id = json::GetStringOrEmpty(o, "private_key_id");
  account.project_id = json::GetStringOrEmpty(o, "project_id");
  account.token_uri = json::GetStringOrEmpty(o, "token_uri");
  if (account.token_uri.empty()) account.token_uri = kGoogleTokenUri;
  std::vector<std::string> missing;
  if (account.client_email.empty()) missing.push_back("client_email");
  if (account.private_key.empty()) missing.push_back("private_key");
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    return Status::InvalidArgument("service account credentials lack " + names);
  }
  return account;
}

Result<std::string> SignJwtAssertion(const ServiceAccount& account, const std::string& scope, Micros now) {
  JsonWriter header;
  header.BeginObject().Field("alg", "RS256").Field("typ", "JWT");
  if (!account.private_key_id.empty()) header.Field("kid", account.private_key_id);
  header.EndObject();
  const int64_t iat = now / kMicrosPerSecond;
  JsonWriter claims;
  claims.BeginObject()
      .Field("iss", account.client_email)
      .Field("scope", scope)
      .Field("aud", account.token_uri)
      .Field("iat", iat)
      .Field("exp", iat + kAssertionLifetimeSeconds)
      .EndObject();
  const std::string signing_input = Base64Url(header.Take()) + "." + Base64Url(claims.Take());
  auto signature = SignRs256(account.private_key, signing_input);
  if (!signature.ok()) return signature.status();
  return signing_input + "." + Base64Url(*signature);
}

Result<AccessTokenCache::Token> GoogleAccessToken(AccessTokenCache& cache, HandlerContext& ctx, const Channel& channel,
                                                 const Msg& msg, const std::string& credentials_json,
                                                 const ServiceAccount& account, const std::string& scope,
                                                 std::vector<ChannelLog>& logs) {
  const Micros now = ctx.clock.Now();
  // Google answers expires_in 3599; without it assume the assertion's
  // hour, and never believe longer than that.
  const TokenLifetime lifetime{kAssertionLifetimeSeconds, kAssertionLifetimeSeconds};
  return cache.Get(channel.uuid, TokenFingerprint({scope, credentials_json}), now, lifetime,
                   [&]() -> Result<IssuedToken> {
    auto assertion = SignJwtAssertion(account, scope, now);
    if (!assertion.ok()) {
      std::string error = "cannot make the access token request: " + assertion.status().message();
      logs.push_back(ErrorLog(channel, msg, error, now));
      return Status::InvalidArgument(error);
    }
    HttpRequestSpec request;
    request.method = "POST";
    request.url = account.token_uri;
    request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    request.headers.push_back({"Accept", "application/json"});
    request.body =
        FormEncode({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", *assertion}});
    // Neither the assertion (a credential for an hour) nor the token it
    // bought may reach the log.
    return RequestAccessToken(ctx, channel, msg, request, "Google", {*assertion}, logs);
  });
}

}  // namespace courier::handlers
