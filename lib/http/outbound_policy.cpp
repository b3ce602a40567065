#include "http/outbound_policy.h"

namespace courier {
namespace {

struct Range {
  IpNetwork network;
  const char* what;
};

// The ranges refused by default, most specific first so the reason names
// the narrowest one.
const std::vector<Range>& RefusedRanges() {
  static const std::vector<Range> ranges = [] {
    const std::pair<const char*, const char*> table[] = {
        {"0.0.0.0/8", "unspecified (this network)"},
        {"10.0.0.0/8", "private"},
        {"100.64.0.0/10", "shared address space (CGNAT)"},
        {"127.0.0.0/8", "loopback"},
        {"169.254.0.0/16", "link-local"},
        {"172.16.0.0/12", "private"},
        {"192.0.0.0/24", "IETF protocol assignments"},
        {"192.168.0.0/16", "private"},
        {"198.18.0.0/15", "benchmarking"},
        {"224.0.0.0/4", "multicast"},
        {"240.0.0.0/4", "reserved (or broadcast)"},
        {"::/128", "unspecified"},
        {"::1/128", "loopback"},
        {"fe80::/10", "link-local"},
        {"fec0::/10", "site-local"},
        {"fc00::/7", "unique-local"},
        {"ff00::/8", "multicast"},
        {"100::/64", "discard-only"},
    };
    std::vector<Range> out;
    for (const auto& [cidr, what] : table) out.push_back({*ParseIpNetwork(cidr), what});
    return out;
  }();
  return ranges;
}

// IPv6 forms that carry an IPv4 address a gateway or the kernel would
// reach: IPv4-compatible (::a.b.c.d, deprecated) and NAT64
// (64:ff9b::a.b.c.d). The mapped form ::ffff:a.b.c.d is how IpBytes holds
// IPv4 already.
std::optional<IpBytes> EmbeddedV4(const IpBytes& a) {
  static const IpNetwork compatible = *ParseIpNetwork("::/96");
  static const IpNetwork nat64 = *ParseIpNetwork("64:ff9b::/96");
  if (!compatible.Contains(a) && !nat64.Contains(a)) return std::nullopt;
  IpBytes v4{};
  v4[10] = v4[11] = 0xff;
  for (int i = 12; i < 16; ++i) v4[i] = a[i];
  return v4;
}

}  // namespace

OutboundPolicy OutboundPolicy::Unrestricted() {
  OutboundPolicy p;
  p.unrestricted_ = true;
  return p;
}

Result<OutboundPolicy> OutboundPolicy::WithAllowList(const std::string& allow) {
  std::string error;
  auto networks = ParseIpNetworks(allow, &error);
  if (!networks) return Status::Usage("outbound_allow: " + error);
  OutboundPolicy p;
  p.allowed_ = std::move(*networks);
  return p;
}

std::string OutboundPolicy::Refusal(const IpBytes& address) const {
  if (unrestricted_) return "";
  for (const auto& n : allowed_)
    if (n.Contains(address)) return "";
  for (const auto& r : RefusedRanges())
    if (r.network.Contains(address)) return IpAddressText(address) + " is " + r.what;
  if (auto v4 = EmbeddedV4(address)) {
    std::string inner = Refusal(*v4);
    if (!inner.empty()) return IpAddressText(address) + " embeds " + inner;
  }
  return "";
}

std::string OutboundPolicy::Refusal(const std::string& address) const {
  auto bytes = ParseIpAddress(address);
  if (!bytes) return "'" + address + "' is not an IP address";
  return Refusal(*bytes);
}

}  // namespace courier
