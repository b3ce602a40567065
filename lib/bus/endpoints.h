#pragma once
// ZeroMQ endpoint names. Each defaults to ipc://{run_dir}/NAME.sock; the
// daemons bind them, courier-ctl and the other daemons connect.
#include <string>

namespace courier {

inline constexpr const char* kRecvEvents = "recv-events";
inline constexpr const char* kSendEvents = "send-events";
inline constexpr const char* kSendWake = "send-wake";
inline constexpr const char* kFlushWake = "flush-wake";
inline constexpr const char* kRecvCtl = "recv-ctl";
inline constexpr const char* kSendCtl = "send-ctl";
inline constexpr const char* kFlushCtl = "flush-ctl";
inline constexpr const char* kHookCtl = "hook-ctl";
inline constexpr const char* kApiCtl = "api-ctl";

std::string EndpointFor(const std::string& run_dir, const std::string& name);

}  // namespace courier
