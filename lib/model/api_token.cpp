#include "model/api_token.h"

#include <openssl/rand.h>

#include <algorithm>

#include "util/hmac.h"
#include "util/text.h"

namespace courier {

Result<std::string> NewApiToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::Internal("the random generator failed (OpenSSL RAND_bytes)");
  std::string encoded = Base64Encode(std::string(reinterpret_cast<char*>(bytes), sizeof bytes));
  // base64url without padding: the token goes in headers and shell
  // variables without quoting.
  for (char& c : encoded) c = c == '+' ? '-' : c == '/' ? '_' : c;
  encoded.erase(std::remove(encoded.begin(), encoded.end(), '='), encoded.end());
  return "ctk_" + encoded;
}

std::string ApiTokenHash(const std::string& token) { return HexEncode(Digest(DigestAlgorithm::kSha256, token)); }

Result<std::vector<std::string>> ParseApiScopes(const std::string& text) {
  std::vector<std::string> scopes;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string scope = Trim(text.substr(start, end - start));
    start = end + 1;
    if (scope.empty()) continue;
    if (scope != kApiScopeSend && scope != kApiScopeRead && scope != kApiScopeAdmin)
      return Status::InvalidArgument("unknown scope '" + scope + "' (the scopes are send, read and admin)");
    if (std::find(scopes.begin(), scopes.end(), scope) == scopes.end()) scopes.push_back(scope);
  }
  if (scopes.empty()) return Status::InvalidArgument("a token needs at least one scope (send, read, admin)");
  return scopes;
}

bool ApiScopeAllows(const std::vector<std::string>& scopes, const std::string& needed) {
  for (const auto& s : scopes)
    if (s == needed || s == kApiScopeAdmin) return true;
  return false;
}

}  // namespace courier
