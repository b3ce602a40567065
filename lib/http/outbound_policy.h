#pragma once
// OutboundPolicy: which addresses courier may connect to on a channel's
// behalf (sends, token fetches, media downloads). A channel's URLs are
// configuration anybody with `courier-ctl channel add` writes, and the
// answers end up in channel logs, so by default nothing internal is
// reachable: loopback, link-local (cloud metadata at 169.254.169.254),
// private, CGNAT, unique-local, unspecified, multicast and reserved
// addresses, and the IPv4-mapped, IPv4-compatible and NAT64 IPv6 forms of
// them. The operator's allow-list (`outbound_allow`: on-premise gateways,
// tests) opens networks again; it is checked first.
//
// The check is on addresses, after DNS resolution: the HTTP client
// resolves a host once, checks the address, and connects to exactly that
// address (no second lookup an attacker's DNS could answer differently).
//
// Thread-safety: immutable after construction.
#include <string>
#include <vector>

#include "core/status.h"
#include "util/ip_network.h"

namespace courier {

class OutboundPolicy {
 public:
  // The default: refuses the internal ranges above, allows the rest.
  OutboundPolicy() = default;
  // Allows every address: for requests the operator configures for
  // himself (webhooks to the applications) and for tests' own clients,
  // never for a channel's URLs.
  static OutboundPolicy Unrestricted();
  // The default with `allow` (comma-separated CIDRs, "127.0.0.0/8,
  // 10.1.2.0/24") opened; Usage error naming a malformed item.
  static Result<OutboundPolicy> WithAllowList(const std::string& allow);

  // "" when `address` may be connected to; else why not, as
  // "127.0.0.1 is loopback".
  std::string Refusal(const IpBytes& address) const;
  // The same for an address in text; an unparsable one is refused.
  std::string Refusal(const std::string& address) const;

  bool unrestricted() const { return unrestricted_; }
  const std::vector<IpNetwork>& allowed() const { return allowed_; }

 private:
  bool unrestricted_ = false;
  std::vector<IpNetwork> allowed_;
};

}  // namespace courier
