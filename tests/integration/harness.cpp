#include "harness.h"

#include "loopback_port.h"

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace courier::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/courier-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("COURIER_KEEP_TEST_DIRS")) return;
  std::error_code ec;
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(path_, ec);
}

std::string Bin(const std::string& program) { return std::string(COURIER_BIN_DIR) + "/" + program; }

ExecImage::ExecImage(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  std::map<std::string, std::string> merged = {{"COURIER_OUTBOUND_ALLOW", kLoopbackAllow}};
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    auto eq = entry.find('=');
    if (eq != std::string::npos) merged.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  for (const auto& [k, v] : env) merged[k] = v;
  strings_.reserve(argv.size() + merged.size());  // no reallocation: the pointers below stay valid
  for (const auto& a : argv) strings_.push_back(a);
  for (const auto& [k, v] : merged) strings_.push_back(k + "=" + v);
  for (size_t i = 0; i < strings_.size(); ++i) (i < argv.size() ? argv_ : envp_).push_back(strings_[i].data());
  argv_.push_back(nullptr);
  envp_.push_back(nullptr);
}

void ExecImage::Exec() const {
  ::execve(argv_[0], argv_.data(), envp_.data());
  static const char kFailed[] = "exec failed\n";
  (void)!::write(2, kFailed, sizeof kFailed - 1);
  ::_exit(127);
}

RunResult RunProgram(const std::vector<std::string>& argv, const std::string& input,
              const std::map<std::string, std::string>& env) {
  ::signal(SIGPIPE, SIG_IGN);  // a child that exits without reading stdin
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe(in_pipe) || ::pipe(out_pipe) || ::pipe(err_pipe)) throw std::runtime_error("pipe failed");
  const ExecImage image(argv, env);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    image.Exec();
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  // Feed stdin and drain both outputs together so no pipe fills and blocks.
  size_t written = 0;
  if (input.empty()) ::close(in_pipe[1]);
  int in_fd = input.empty() ? -1 : in_pipe[1];
  RunResult result;
  bool out_open = true, err_open = true;
  while (out_open || err_open || in_fd >= 0) {
    struct pollfd fds[3];
    int n = 0;
    if (out_open) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (::poll(fds, n, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w = ::write(in_fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 || written == input.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[65536];
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      bool is_out = fds[i].fd == out_pipe[0];
      if (r <= 0) {
        (is_out ? out_open : err_open) = false;
      } else {
        (is_out ? result.out : result.err).append(buf, static_cast<size_t>(r));
      }
    }
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

std::vector<json::ObjectPtr> JsonLines(const std::string& text) {
  std::vector<json::ObjectPtr> objects;
  for (const auto& line : Lines(text)) {
    auto object = json::ParseObject(line);
    if (!object.ok()) {
      ADD_FAILURE() << "not a JSON object: " << line;
      continue;
    }
    objects.push_back(*object);
  }
  return objects;
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace courier::testing

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "http/http_client.h"

namespace courier::testing {

int FreePort() { return ReserveLoopbackPort(); }

Daemon::Daemon(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string log_path)
    : log_path_(std::move(log_path)) {
  const ExecImage image(argv, env);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Its own process group, so a pipeline (a shell script) is stopped
    // as a whole.
    ::setpgid(0, 0);
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close(fd);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    image.Exec();
  }
  ::setpgid(pid_, pid_);  // also here: whichever runs first makes the group
}

Daemon::~Daemon() {
  if (pid_ > 0 && running()) {
    ::kill(-pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
  }
}

bool Daemon::running() {
  if (pid_ <= 0) return false;
  int status;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -pid_;  // reaped
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

bool Daemon::WaitForHttp(int port, int timeout_ms) {
  auto http = NewLoopbackHttpClient(HttpClientOptions{2});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    HttpRequestSpec req;
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
    if (http->Do(req).status_code == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int Daemon::Stop(int sig, int timeout_ms) {
  if (pid_ <= 0) return exit_code_;
  ::kill(-pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -pid_;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid_, SIGKILL);
  int status;
  ::waitpid(pid_, &status, 0);
  pid_ = -pid_;
  return -2;
}

std::string Daemon::log() const { return ReadFile(log_path_); }

}  // namespace courier::testing

#include <sqlite3.h>

namespace courier::testing {

StoreLock::StoreLock(const std::string& db) {
  int ready[2];
  if (::pipe(ready) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ == 0) {
    sqlite3* conn = nullptr;
    char ok = 'x';
    // A daemon may hold the write lock for a moment (a claim, a batch):
    // wait for it, as a real other process would, instead of failing at
    // once and leaving the test to run with no lock at all.
    if (sqlite3_open(db.c_str(), &conn) == SQLITE_OK && sqlite3_busy_timeout(conn, 30000) == SQLITE_OK &&
        sqlite3_exec(conn, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK)
      ok = 'y';
    ssize_t w = ::write(ready[1], &ok, 1);
    (void)w;
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ssize_t r = ::read(ready[0], &c, 1);
  ::close(ready[0]);
  ::close(ready[1]);
  locked_ = r == 1 && c == 'y';
}

void StoreLock::Release() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

}  // namespace courier::testing

#include <gtest/gtest.h>
#include <libpq-fe.h>

namespace courier::testing {

int64_t StoreScalar(const std::string& db, const std::string& sql) {
  int64_t n = -1;
  if (db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0) {
    PGconn* conn = ::PQconnectdb(db.c_str());
    PGresult* res = ::PQstatus(conn) == CONNECTION_OK ? ::PQexec(conn, sql.c_str()) : nullptr;
    if (res != nullptr && ::PQresultStatus(res) == PGRES_TUPLES_OK && ::PQntuples(res) > 0)
      n = std::strtoll(::PQgetvalue(res, 0, 0), nullptr, 10);
    else
      ADD_FAILURE() << sql << " on " << db << ": " << ::PQerrorMessage(conn);
    ::PQclear(res);
    ::PQfinish(conn);
    return n;
  }
  sqlite3* conn = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(conn, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  else
    ADD_FAILURE() << sql << " on " << db << ": " << sqlite3_errmsg(conn);
  sqlite3_finalize(st);
  sqlite3_close(conn);
  return n;
}

void StoreExec(const std::string& db, const std::string& sql) {
  if (db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0) {
    PGconn* conn = ::PQconnectdb(db.c_str());
    PGresult* res = ::PQstatus(conn) == CONNECTION_OK ? ::PQexec(conn, sql.c_str()) : nullptr;
    if (res == nullptr || ::PQresultStatus(res) != PGRES_COMMAND_OK)
      ADD_FAILURE() << sql << " on " << db << ": " << ::PQerrorMessage(conn);
    ::PQclear(res);
    ::PQfinish(conn);
    return;
  }
  sqlite3* conn = nullptr;
  char* error = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK ||
      sqlite3_busy_timeout(conn, 10000) != SQLITE_OK || sqlite3_exec(conn, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK)
    ADD_FAILURE() << sql << " on " << db << ": " << (error ? error : sqlite3_errmsg(conn));
  sqlite3_free(error);
  sqlite3_close(conn);
}

}  // namespace courier::testing
