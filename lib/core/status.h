#pragma once
// Status and Result<T>: errors as values, in the manner of LevelDB.
//
// Library code never throws across a component boundary; adapters around
// POCO, SQLite and ZeroMQ catch and return a Status. Each code maps to one
// sysexits exit code, so a tool's main can turn any failure into the exit
// status scripts rely on (see ExitCode()).
//
// Thread-safety: values; safe to copy between threads.

#include <optional>
#include <string>
#include <utility>

namespace courier {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,         // a named thing does not exist (66)
    kInvalidArgument,  // bad input from a user or a request (65 / 64)
    kUsage,            // a bad option or command line (64)
    kCorruption,       // stored data that cannot be read back (65)
    kIOError,          // the filesystem failed us (74)
    kUnavailable,      // store or daemon not reachable now; try later (69)
    kBusy,             // store locked past the busy timeout (75)
    kConflict,         // a state change that is not allowed (65)
    kInternal,         // a bug (70)
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status Usage(std::string m) { return Status(Code::kUsage, std::move(m)); }
  static Status Corruption(std::string m) { return Status(Code::kCorruption, std::move(m)); }
  static Status IOError(std::string m) { return Status(Code::kIOError, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status Busy(std::string m) { return Status(Code::kBusy, std::move(m)); }
  static Status Conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }
  static Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable || code_ == Code::kBusy || code_ == Code::kIOError; }

  // "not found: channel not found" style text for logs and stderr.
  std::string ToString() const;
  // The sysexits code a tool should exit with for this status.
  int ExitCode() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// The reference's named errors; the texts are observable in HTTP answers.
namespace errors {
inline constexpr const char* kChannelNotFound = "channel not found";
inline constexpr const char* kChannelWrongType = "channel type wrong";
inline constexpr const char* kChannelExpired = "channel expired";
inline constexpr const char* kMsgNotFound = "message not found";
inline Status ChannelNotFound() { return Status::NotFound(kChannelNotFound); }
inline Status ChannelWrongType() { return Status::InvalidArgument(kChannelWrongType); }
inline Status ChannelExpired() { return Status::NotFound(kChannelExpired); }
inline Status MsgNotFound() { return Status::NotFound(kMsgNotFound); }
}  // namespace errors

// A value or the Status that explains its absence.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

// sysexits(3) codes used across the tools.
namespace exit_code {
inline constexpr int kOk = 0;
inline constexpr int kUsage = 64;
inline constexpr int kDataErr = 65;
inline constexpr int kNoInput = 66;
inline constexpr int kUnavailable = 69;
inline constexpr int kSoftware = 70;
inline constexpr int kIOErr = 74;
inline constexpr int kTempFail = 75;
inline constexpr int kConfig = 78;
}  // namespace exit_code

}  // namespace courier
