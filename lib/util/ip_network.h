#pragma once
// IP addresses and networks (CIDR notation) for address allow- and
// deny-lists. Every address is held as 16 bytes: an IPv4 address as its
// IPv4-mapped IPv6 form (::ffff:a.b.c.d), so one comparison covers both
// families and "::ffff:127.0.0.1" is inside 127.0.0.0/8 like 127.0.0.1.
//
// Thread-safety: values and pure functions.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace courier {

using IpBytes = std::array<uint8_t, 16>;

// "127.0.0.1", "::1", "fe80::1%eth0" (the zone is ignored); nullopt when
// `text` is not an address.
std::optional<IpBytes> ParseIpAddress(const std::string& text);
// The usual text: dotted quad for IPv4 (also when held mapped), else RFC
// 5952 IPv6.
std::string IpAddressText(const IpBytes& address);

struct IpNetwork {
  IpBytes base{};  // with the bits past `prefix` cleared
  int prefix = 0;  // over the 128 bits (an IPv4 /8 is 104)

  bool Contains(const IpBytes& address) const;
  // As written in a setting: "10.0.0.0/8", "fc00::/7".
  std::string Text() const;
};

// "10.1.2.0/24", "::1/128", or a bare address (one host); nullopt when
// malformed (bad address, prefix beyond 32 or 128).
std::optional<IpNetwork> ParseIpNetwork(const std::string& text);

// A comma-separated list ("127.0.0.0/8, 10.1.2.0/24"; blanks around items
// ignored, "" is the empty list). On a malformed item, nullopt and
// `error` says which.
std::optional<std::vector<IpNetwork>> ParseIpNetworks(const std::string& text, std::string* error);

}  // namespace courier
