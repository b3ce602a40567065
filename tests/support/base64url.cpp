#include "base64url.h"

#include <Poco/Base64Decoder.h>

#include <iterator>
#include <sstream>

namespace courier::testing {

std::string Base64UrlDecode(std::string text) {
  for (auto& c : text) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (text.size() % 4) text += '=';
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  return std::string(std::istreambuf_iterator<char>(decoder), {});
}

}  // namespace courier::testing
