#pragma once
// Test harness for integration tests: temporary directories and running
// the real courier programs as child processes with captured output;
// Eventually (eventually.h) to wait on them.
#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "eventually.h"
#include "loopback_client.h"

namespace courier::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
// destruction unless COURIER_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Path of a built courier program, e.g. Bin("courier-ctl").
std::string Bin(const std::string& program);

// Runs argv[0] with args, feeding `input` on stdin; env entries are added
// to (or override) the current environment. Like Daemon, it sets
// COURIER_OUTBOUND_ALLOW to loopback (kLoopbackAllow) unless `env` says
// otherwise: the mock providers listen on 127.0.0.1.
RunResult RunProgram(const std::vector<std::string>& argv, const std::string& input = "",
              const std::map<std::string, std::string>& env = {});

// What a forked child execs, built before the fork: between fork and exec
// a child of this multithreaded test process may not allocate (another
// thread may have held the allocator's lock at the fork, and ASan's
// allocator has no fork handler: the child hangs for ever). The
// environment is the current one with COURIER_OUTBOUND_ALLOW set to
// loopback (kLoopbackAllow; the mock providers are there) and `env`
// added or overriding.
class ExecImage {
 public:
  ExecImage(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env);
  // Only async-signal-safe calls: for the child, after fork.
  [[noreturn]] void Exec() const;

 private:
  std::vector<std::string> strings_;
  std::vector<char*> argv_, envp_;
};

// Splits text into non-empty lines.
std::vector<std::string> Lines(const std::string& text);

// Each non-empty line of a --json listing as its object; a line that is
// not a JSON object fails the running test (and is left out).
std::vector<json::ObjectPtr> JsonLines(const std::string& text);

void WriteFile(const std::string& path, const std::string& contents);
std::string ReadFile(const std::string& path);

}  // namespace courier::testing

namespace courier::testing {

// A free TCP port on 127.0.0.1, kept for this test process
// (support/loopback_port.h).
int FreePort();

// A courier daemon run as a child process for the length of a test.
class Daemon {
 public:
  Daemon(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string log_path);
  ~Daemon();  // SIGKILL if still running
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Polls until GET http://127.0.0.1:port/ answers (true) or timeout.
  bool WaitForHttp(int port, int timeout_ms = 10000);
  // Sends `sig` and waits for the exit; returns the exit code (128+N if
  // killed by signal N), or the code it already exited with.
  int Stop(int sig = 15, int timeout_ms = 20000);
  bool running();
  int pid() const { return pid_; }
  std::string log() const;

 private:
  int pid_ = -1;
  int exit_code_ = -1;  // once reaped (by running() or Stop())
  std::string log_path_;
};

}  // namespace courier::testing

namespace courier::testing {

// Holds an exclusive transaction on a SQLite store from another process
// (as a long-running writer or a backup tool would) until Release() or
// destruction, so the store's writers get SQLITE_BUSY: a real lock, not a
// simulated one.
class StoreLock {
 public:
  explicit StoreLock(const std::string& db);
  ~StoreLock() { Release(); }
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  void Release();
  bool locked() const { return locked_; }

 private:
  int pid_ = -1;
  bool locked_ = false;
};

}  // namespace courier::testing

namespace courier::testing {

// One scalar (the first column of the first row, as an integer) of `sql`
// run on the store `db` names: a SQLite file, or a postgresql:// url (with
// libpq). What a test reads directly from the store, the same on either
// engine; the SQL must be valid on both (e.g. SELECT COUNT(*) FROM ...).
// -1 with a test failure when the store cannot be read.
int64_t StoreScalar(const std::string& db, const std::string& sql);
// Runs one statement that returns no rows on the store at `db` (either
// engine); a failure is a test failure. For what no program does, such
// as ageing a row.
void StoreExec(const std::string& db, const std::string& sql);

}  // namespace courier::testing
