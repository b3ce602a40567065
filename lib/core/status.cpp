#include "core/status.h"

namespace courier {

std::string Status::ToString() const {
  const char* prefix = "";
  switch (code_) {
    case Code::kOk: return "ok";
    case Code::kNotFound: prefix = "not found"; break;
    case Code::kInvalidArgument: prefix = "invalid argument"; break;
    case Code::kUsage: prefix = "usage"; break;
    case Code::kCorruption: prefix = "corruption"; break;
    case Code::kIOError: prefix = "io error"; break;
    case Code::kUnavailable: prefix = "unavailable"; break;
    case Code::kBusy: prefix = "busy"; break;
    case Code::kConflict: prefix = "conflict"; break;
    case Code::kInternal: prefix = "internal error"; break;
  }
  return std::string(prefix) + ": " + message_;
}

int Status::ExitCode() const {
  switch (code_) {
    case Code::kOk: return exit_code::kOk;
    case Code::kNotFound: return exit_code::kNoInput;
    case Code::kInvalidArgument: return exit_code::kDataErr;
    case Code::kUsage: return exit_code::kUsage;
    case Code::kCorruption: return exit_code::kDataErr;
    case Code::kIOError: return exit_code::kIOErr;
    case Code::kUnavailable: return exit_code::kUnavailable;
    case Code::kBusy: return exit_code::kTempFail;
    case Code::kConflict: return exit_code::kDataErr;
    case Code::kInternal: return exit_code::kSoftware;
  }
  return exit_code::kSoftware;
}

}  // namespace courier
