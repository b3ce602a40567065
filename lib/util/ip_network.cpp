#include "util/ip_network.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <cstring>

#include "util/text.h"

namespace courier {
namespace {

IpBytes MappedV4(const uint8_t v4[4]) {
  IpBytes out{};
  out[10] = 0xff;
  out[11] = 0xff;
  std::memcpy(out.data() + 12, v4, 4);
  return out;
}

bool IsMappedV4(const IpBytes& a) {
  for (int i = 0; i < 10; ++i)
    if (a[i] != 0) return false;
  return a[10] == 0xff && a[11] == 0xff;
}

}  // namespace

std::optional<IpBytes> ParseIpAddress(const std::string& text) {
  std::string address = text.substr(0, text.find('%'));
  uint8_t v4[4];
  if (::inet_pton(AF_INET, address.c_str(), v4) == 1) return MappedV4(v4);
  IpBytes v6{};
  if (::inet_pton(AF_INET6, address.c_str(), v6.data()) == 1) return v6;
  return std::nullopt;
}

std::string IpAddressText(const IpBytes& address) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (IsMappedV4(address)) {
    ::inet_ntop(AF_INET, address.data() + 12, buf, sizeof buf);
  } else {
    ::inet_ntop(AF_INET6, address.data(), buf, sizeof buf);
  }
  return buf;
}

bool IpNetwork::Contains(const IpBytes& address) const {
  int bits = prefix;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((address[i] & mask) != base[i]) return false;
  }
  return true;
}

std::string IpNetwork::Text() const {
  if (IsMappedV4(base) && prefix >= 96) return IpAddressText(base) + "/" + std::to_string(prefix - 96);
  return IpAddressText(base) + "/" + std::to_string(prefix);
}

std::optional<IpNetwork> ParseIpNetwork(const std::string& text) {
  const size_t slash = text.find('/');
  const std::string address_text = text.substr(0, slash);
  // A zone belongs to an address, not to a network.
  if (address_text.find('%') != std::string::npos) return std::nullopt;
  auto address = ParseIpAddress(address_text);
  if (!address) return std::nullopt;
  const bool v4 = address_text.find(':') == std::string::npos;
  int prefix = 128;
  if (slash != std::string::npos) {
    const std::string bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3 || !AllDigits(bits)) return std::nullopt;
    prefix = std::atoi(bits.c_str());
    if (prefix > (v4 ? 32 : 128)) return std::nullopt;
    if (v4) prefix += 96;
  }
  IpNetwork network;
  network.prefix = prefix;
  int bits = prefix;
  for (int i = 0; i < 16; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
    network.base[i] = (*address)[i] & mask;
  }
  return network;
}

std::optional<std::vector<IpNetwork>> ParseIpNetworks(const std::string& text, std::string* error) {
  std::vector<IpNetwork> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = Trim(std::string_view(text).substr(start, end - start));
    start = end + 1;
    if (item.empty()) continue;
    auto network = ParseIpNetwork(item);
    if (!network) {
      if (error) *error = "not an address or CIDR network: '" + item + "'";
      return std::nullopt;
    }
    out.push_back(*network);
  }
  return out;
}

}  // namespace courier
