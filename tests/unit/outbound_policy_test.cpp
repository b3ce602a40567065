// OutboundPolicy and the IP network parsing under it: which addresses a
// channel's requests may reach (invariant 8).
#include <gtest/gtest.h>

#include "http/outbound_policy.h"
#include "util/ip_network.h"

using namespace courier;

namespace {

TEST(OutboundPolicyTest, DefaultRefusesInternalAddressesAndAllowsPublicOnes) {
  struct Case {
    const char* address;
    const char* refusal;  // "" when allowed
  };
  const Case cases[] = {
      {"127.0.0.1", "127.0.0.1 is loopback"},
      {"127.255.255.254", "127.255.255.254 is loopback"},
      {"169.254.169.254", "169.254.169.254 is link-local"},
      {"10.0.0.5", "10.0.0.5 is private"},
      {"172.16.0.1", "172.16.0.1 is private"},
      {"172.31.255.255", "172.31.255.255 is private"},
      {"192.168.1.1", "192.168.1.1 is private"},
      {"100.64.0.1", "100.64.0.1 is shared address space (CGNAT)"},
      {"100.127.255.255", "100.127.255.255 is shared address space (CGNAT)"},
      {"0.0.0.0", "0.0.0.0 is unspecified (this network)"},
      {"224.0.0.1", "224.0.0.1 is multicast"},
      {"255.255.255.255", "255.255.255.255 is reserved (or broadcast)"},
      {"::1", "::1 is loopback"},
      {"::", ":: is unspecified"},
      {"fe80::1", "fe80::1 is link-local"},
      {"fe80::1%eth0", "fe80::1 is link-local"},
      {"fd00::1", "fd00::1 is unique-local"},
      {"fc00::1", "fc00::1 is unique-local"},
      {"ff02::1", "ff02::1 is multicast"},
      // IPv6 spellings of internal IPv4 addresses.
      {"::ffff:127.0.0.1", "127.0.0.1 is loopback"},
      {"::ffff:169.254.169.254", "169.254.169.254 is link-local"},
      {"::ffff:a00:1", "10.0.0.1 is private"},
      {"::127.0.0.1", "::127.0.0.1 embeds 127.0.0.1 is loopback"},
      {"64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe embeds 169.254.169.254 is link-local"},
      {"not an address", "'not an address' is not an IP address"},
      // Public addresses, also next to the refused ranges.
      {"8.8.8.8", ""},
      {"172.32.0.1", ""},
      {"100.128.0.1", ""},
      {"11.0.0.1", ""},
      {"169.253.255.255", ""},
      {"2001:4860:4860::8888", ""},
      {"::ffff:8.8.8.8", ""},
      {"64:ff9b::808:808", ""},
  };
  OutboundPolicy policy;
  for (const auto& c : cases) EXPECT_EQ(policy.Refusal(std::string(c.address)), c.refusal) << c.address;
}

TEST(OutboundPolicyTest, AllowListOpensOnlyItsNetworks) {
  auto policy = OutboundPolicy::WithAllowList("127.0.0.0/8, 10.1.2.0/24,::1");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const std::pair<const char*, bool> cases[] = {
      {"127.0.0.1", true},  {"127.1.2.3", true},   {"::ffff:127.0.0.1", true}, {"::1", true},
      {"10.1.2.200", true}, {"10.1.3.1", false},   {"10.0.0.1", false},        {"169.254.169.254", false},
      {"fe80::1", false},   {"192.168.0.1", false}, {"8.8.8.8", true},
  };
  for (const auto& [address, allowed] : cases)
    EXPECT_EQ(policy->Refusal(std::string(address)).empty(), allowed) << address;
  EXPECT_TRUE(OutboundPolicy::Unrestricted().Refusal(std::string("169.254.169.254")).empty());
}

TEST(OutboundPolicyTest, MalformedAllowListsAreUsageErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"127.0.0.0/33", "outbound_allow: not an address or CIDR network: '127.0.0.0/33'"},
      {"10.0.0.0/8,localhost", "outbound_allow: not an address or CIDR network: 'localhost'"},
      {"::1/129", "outbound_allow: not an address or CIDR network: '::1/129'"},
      {"10.0.0.0/", "outbound_allow: not an address or CIDR network: '10.0.0.0/'"},
      {"10.0.0.0/-1", "outbound_allow: not an address or CIDR network: '10.0.0.0/-1'"},
      {"fe80::1%eth0/64", "outbound_allow: not an address or CIDR network: 'fe80::1%eth0/64'"},
  };
  for (const auto& [text, error] : cases) {
    auto policy = OutboundPolicy::WithAllowList(text);
    ASSERT_FALSE(policy.ok()) << text;
    EXPECT_EQ(policy.status().message(), error);
  }
  EXPECT_TRUE(OutboundPolicy::WithAllowList("").ok());
  EXPECT_TRUE(OutboundPolicy::WithAllowList(" , ").ok());
}

TEST(IpNetworkTest, TextRoundTripsAndHostBitsAreCleared) {
  const std::pair<const char*, const char*> cases[] = {
      {"10.1.2.3/24", "10.1.2.0/24"}, {"127.0.0.1", "127.0.0.1/32"}, {"fc00::1/7", "fc00::/7"},
      {"::1", "::1/128"},             {"0.0.0.0/0", "0.0.0.0/0"},
  };
  for (const auto& [text, canonical] : cases) {
    auto network = ParseIpNetwork(text);
    ASSERT_TRUE(network) << text;
    EXPECT_EQ(network->Text(), canonical);
  }
}

}  // namespace
