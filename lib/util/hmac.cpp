#include "util/hmac.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/HMACEngine.h>
#include <Poco/MD5Engine.h>
#include <Poco/SHA1Engine.h>
#include <Poco/SHA2Engine.h>

#include <iterator>
#include <sstream>

namespace courier {
namespace {

// POCO 1.11's SHA2Engine lacks the block and digest sizes HMACEngine needs.
struct Sha256Engine : Poco::SHA2Engine {
  enum { BLOCK_SIZE = 64, DIGEST_SIZE = 32 };
  Sha256Engine() : Poco::SHA2Engine(Poco::SHA2Engine::SHA_256) {}
};
struct Sha512Engine : Poco::SHA2Engine {
  enum { BLOCK_SIZE = 128, DIGEST_SIZE = 64 };
  Sha512Engine() : Poco::SHA2Engine(Poco::SHA2Engine::SHA_512) {}
};

std::string Bytes(const Poco::DigestEngine::Digest& digest) { return std::string(digest.begin(), digest.end()); }

template <typename Engine>
std::string DigestWith(const std::string& data) {
  Engine engine;
  engine.update(data);
  return Bytes(engine.digest());
}

template <typename Engine>
std::string HmacWith(const std::string& key, const std::string& data) {
  Poco::HMACEngine<Engine> hmac(key);
  hmac.update(data);
  return Bytes(hmac.digest());
}

}  // namespace

std::string Digest(DigestAlgorithm algorithm, const std::string& data) {
  switch (algorithm) {
    case DigestAlgorithm::kMd5: return DigestWith<Poco::MD5Engine>(data);
    case DigestAlgorithm::kSha1: return DigestWith<Poco::SHA1Engine>(data);
    case DigestAlgorithm::kSha256: return DigestWith<Sha256Engine>(data);
    case DigestAlgorithm::kSha512: return DigestWith<Sha512Engine>(data);
  }
  return "";
}

std::string Hmac(DigestAlgorithm algorithm, const std::string& key, const std::string& data) {
  switch (algorithm) {
    case DigestAlgorithm::kMd5: return HmacWith<Poco::MD5Engine>(key, data);
    case DigestAlgorithm::kSha1: return HmacWith<Poco::SHA1Engine>(key, data);
    case DigestAlgorithm::kSha256: return HmacWith<Sha256Engine>(key, data);
    case DigestAlgorithm::kSha512: return HmacWith<Sha512Engine>(key, data);
  }
  return "";
}

std::string HexEncode(const std::string& bytes) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::optional<std::string> Base64Decode(const std::string& text) {
  std::string compact;
  for (char c : text)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') compact += c;
  if (compact.empty() || compact.size() % 4 != 0 ||
      compact.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
          std::string::npos)
    return std::nullopt;
  const size_t padding = compact.find('=');
  if (padding != std::string::npos &&
      (padding < compact.size() - 2 || compact.find_first_not_of('=', padding) != std::string::npos))
    return std::nullopt;
  try {
    std::istringstream in(compact);
    Poco::Base64Decoder decoder(in);
    return std::string(std::istreambuf_iterator<char>(decoder), {});
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

std::optional<std::string> Base64UrlDecode(const std::string& text) {
  if (text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
    return std::nullopt;
  try {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
    return std::string(std::istreambuf_iterator<char>(decoder), {});
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

std::string Base64Encode(const std::string& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << bytes;
  encoder.close();
  return out.str();
}

std::string HmacSha1Base64(const std::string& key, const std::string& data) {
  return Base64Encode(Hmac(DigestAlgorithm::kSha1, key, data));
}

std::string HmacSha256Hex(const std::string& key, const std::string& data) {
  return HexEncode(Hmac(DigestAlgorithm::kSha256, key, data));
}

std::string HmacSha256Base64(const std::string& key, const std::string& data) {
  return Base64Encode(Hmac(DigestAlgorithm::kSha256, key, data));
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool IsSha256Hex(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace courier
