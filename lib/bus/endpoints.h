#pragma once
// ZeroMQ endpoint names. Each defaults to ipc://{run_dir}/NAME.sock; the
// daemons bind them, courier-ctl and the other daemons connect.
#include <string>
#include <vector>

namespace courier {

inline constexpr const char* kRecvEvents = "recv-events";
inline constexpr const char* kSendEvents = "send-events";
// courier-api's: one notice per commit that made events (api/api_events.h).
inline constexpr const char* kApiEvents = "api-events";
// courier-fetch's: one notice per msg whose attachments it finished.
inline constexpr const char* kFetchEvents = "fetch-events";
inline constexpr const char* kSendWake = "send-wake";
inline constexpr const char* kFlushWake = "flush-wake";
inline constexpr const char* kRecvCtl = "recv-ctl";
inline constexpr const char* kSendCtl = "send-ctl";
inline constexpr const char* kFlushCtl = "flush-ctl";
inline constexpr const char* kHookCtl = "hook-ctl";
inline constexpr const char* kApiCtl = "api-ctl";
inline constexpr const char* kFetchCtl = "fetch-ctl";

std::string EndpointFor(const std::string& run_dir, const std::string& name);

// Every feed that publishes when events are committed (recv-events,
// send-events, api-events, fetch-events), for readers that wake on any
// of them.
std::vector<std::string> EventFeeds(const std::string& run_dir);

}  // namespace courier
