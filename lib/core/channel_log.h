#pragma once
// ChannelLog: one HTTP exchange with a provider (a webhook we received or a
// request we sent), kept for operators debugging a channel.
#include <cstdint>
#include <optional>
#include <string>

namespace courier {

// Status code recorded when no HTTP exchange took place (as the reference).
inline constexpr int kNilStatusCode = 417;

struct ChannelLog {
  int64_t id = 0;
  int64_t channel_id = 0;
  std::string channel_uuid;
  std::optional<int64_t> msg_id;
  std::string description;  // "Message Received", "Message Sent", "Error: ..."
  std::string method;
  std::string url;
  int status_code = 0;
  std::string error;  // "" when none
  std::string request;
  std::string response;
  int64_t elapsed_ms = 0;
  int64_t created_on = 0;  // Micros

  bool is_error() const { return !error.empty(); }
};

}  // namespace courier
