#include "postgres_server.h"

#include "loopback_port.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace courier::testing {
namespace {

namespace fs = std::filesystem;

// Debian installs each major version's server programs in
// /usr/lib/postgresql/<major>/bin; the newest one present is used.
std::string FindBinDir() {
  std::error_code ec;
  int best_version = -1;
  std::string best;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string version = entry.path().filename().string();
    if (version.empty() || !std::all_of(version.begin(), version.end(), ::isdigit)) continue;
    const fs::path bin = entry.path() / "bin";
    if (::access((bin / "initdb").c_str(), X_OK) != 0 || ::access((bin / "pg_ctl").c_str(), X_OK) != 0 ||
        ::access((bin / "postgres").c_str(), X_OK) != 0) {
      continue;
    }
    if (std::stoi(version) > best_version) {
      best_version = std::stoi(version);
      best = bin.string();
    }
  }
  return best;
}

bool RunningAsRoot() { return ::geteuid() == 0; }

struct PostgresUser {
  uid_t uid;
  gid_t gid;
};

std::optional<PostgresUser> LookUpPostgresUser() {
  struct passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) return std::nullopt;
  return PostgresUser{pw->pw_uid, pw->pw_gid};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Tail(const std::string& text, size_t max_chars) {
  return text.size() <= max_chars ? text : "..." + text.substr(text.size() - max_chars);
}

// "S" (sleeping), "Z" (zombie), ... or "" when the process is gone. A
// zombie is dead: where PID 1 does not reap orphans (some containers), a
// killed postmaster stays one.
char ProcessState(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses.
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return 0;
  return stat[close + 2];
}

bool IsAlive(pid_t pid) {
  char state = ProcessState(pid);
  return state != 0 && state != 'Z';
}

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::string stat = ReadFile(entry.path().string() + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) children.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return children;
}

// The name a test's database gets: its suite and test name, as a
// PostgreSQL identifier (lower case, [a-z0-9_], at most 63 bytes).
std::string DatabaseName(int counter) {
  std::string base = "db";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info(); info != nullptr) {
    base = std::string(info->test_suite_name()) + "_" + info->name();
  }
  std::string name;
  for (char c : base) {
    name += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                                                        : '_';
  }
  name = name.substr(0, 50) + "_" + std::to_string(counter);
  if (std::isdigit(static_cast<unsigned char>(name[0]))) name = "t" + name;
  return name;
}

// Runs after fork(), before exec: async-signal-safe calls only.
[[noreturn]] void ExecAs(const std::optional<PostgresUser>& user, const char* cwd, int out_fd,
                         const char* path, char* const argv[]) {
  int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) ::dup2(null_fd, 0);
  if (out_fd >= 0) {
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
  }
  // No descriptor of the test process (sockets, the watchdog's pipe)
  // may live on in the postmaster.
  ::close_range(3, ~0U, 0);
  if (::chdir(cwd) != 0) ::_exit(127);
  if (user) {
    if (::setgroups(1, &user->gid) != 0 || ::setgid(user->gid) != 0 || ::setuid(user->uid) != 0) ::_exit(126);
  }
  ::execv(path, argv);
  ::_exit(127);
}

}  // namespace

std::string PostgresServer::Unavailable() {
  if (FindBinDir().empty()) {
    return "no initdb/pg_ctl/postgres in /usr/lib/postgresql/<version>/bin (Debian package postgresql; "
           "scripts/install-deps.sh installs it)";
  }
  if (RunningAsRoot() && !LookUpPostgresUser()) {
    return "running as root and there is no `postgres` user to run initdb and pg_ctl as "
           "(Debian's postgresql package creates it)";
  }
  return "";
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::Create() {
  if (std::string why = Unavailable(); !why.empty()) return Status::Unavailable(why);
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->bin_dir_ = FindBinDir();

  std::string pattern = "/tmp/courier-pg-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return Status::IOError("mkdtemp: " + std::string(std::strerror(errno)));
  server->dir_ = pattern;
  server->data_dir_ = server->dir_ + "/data";
  server->log_path_ = server->dir_ + "/server.log";
  // From here on the destructor (or, if this process dies, the watchdog)
  // removes the dir.
  server->StartWatchdog();
  {
    std::ofstream log(server->log_path_);
  }
  if (RunningAsRoot()) {
    auto user = LookUpPostgresUser();
    if (::chown(server->dir_.c_str(), user->uid, user->gid) != 0 ||
        ::chown(server->log_path_.c_str(), user->uid, user->gid) != 0) {
      return Status::IOError("chown " + server->dir_ + ": " + std::strerror(errno));
    }
  }

  // --no-sync: the new catalog need not reach the disk before the first
  // start (a crash test loses processes, not the page cache); saves a
  // second per server. The running server keeps fsync on.
  Status made = server->RunTool("initdb", {"-D", server->data_dir_, "-U", "courier", "--auth=trust", "-E", "UTF8",
                                           "--no-locale", "--no-sync"});
  if (!made.ok()) return made;
  {
    std::ofstream conf(server->data_dir_ + "/postgresql.conf", std::ios::app);
    conf << "\n# courier tests (tests/support/postgres_server.cpp)\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "unix_socket_directories = '" << server->dir_ << "'\n"
         << "fsync = on\n"
         << "synchronous_commit = on\n"
         << "full_page_writes = on\n"
         << "include_if_exists = 'courier_port.conf'\n";
    if (!conf) return Status::IOError("cannot append to " + server->data_dir_ + "/postgresql.conf");
  }
  // The port is chosen once and kept across Stop()/Start(), so clients
  // find the server where it was; only a port taken before the first
  // start is given up for another.
  Status started;
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = ReserveLoopbackPort();
    if (server->port_ == 0) return Status::IOError("no free loopback port");
    const std::string port_conf = server->data_dir_ + "/courier_port.conf";
    std::ofstream(port_conf) << "port = " << server->port_ << "\n";
    if (RunningAsRoot()) {
      auto user = LookUpPostgresUser();
      if (::chown(port_conf.c_str(), user->uid, user->gid) != 0) return Status::IOError("chown " + port_conf);
    }
    started = server->Start();
    if (started.ok()) return server;
    if (server->Log().find("could not bind") == std::string::npos) break;
  }
  return started;
}

PostgresServer::~PostgresServer() {
  if (running_ || PostmasterPid() != 0) {
    // Immediate: the data is deleted next, nothing needs a checkpoint.
    Status stopped = RunTool("pg_ctl", {"-D", data_dir_, "-m", "immediate", "-w", "-t", "30", "stop"});
    (void)stopped;
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
  if (watchdog_fd_ >= 0) ::close(watchdog_fd_);
  if (watchdog_pid_ > 0) ::waitpid(watchdog_pid_, nullptr, 0);
}

void PostgresServer::StartWatchdog() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  // Wakes on EOF of the pipe, which the kernel gives when the test process
  // is gone however it went (or the destructor closed it). SIGQUIT is
  // PostgreSQL's immediate shutdown; a zombie postmaster counts as gone.
  static const char* kScript =
      "read -r _\n"
      "pidfile=\"$1/data/postmaster.pid\"\n"
      "if [ -f \"$pidfile\" ]; then\n"
      "  pid=$(head -n 1 \"$pidfile\")\n"
      "  kill -QUIT \"$pid\" 2>/dev/null\n"
      "  n=0\n"
      "  while [ $n -lt 100 ] && [ -f \"$pidfile\" ]; do sleep 0.1; n=$((n + 1)); done\n"
      "fi\n"
      "rm -rf \"$1\"\n";
  std::vector<std::string> args = {"/bin/sh", "-c", kScript, "courier-pg-watchdog", dir_};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    // Its own session: a kill of the test's process group (ctest's
    // timeout) leaves it to clean up.
    ::setsid();
    ::dup2(fds[0], 0);
    int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
      ::dup2(null_fd, 1);
      ::dup2(null_fd, 2);
    }
    ::close_range(3, ~0U, 0);
    ::execv("/bin/sh", argv.data());
    ::_exit(127);
  }
  ::close(fds[0]);
  if (pid < 0) {
    ::close(fds[1]);
    return;
  }
  watchdog_pid_ = pid;
  watchdog_fd_ = fds[1];
}

Status PostgresServer::RunTool(const std::string& tool, const std::vector<std::string>& args) const {
  const std::string path = bin_dir_ + "/" + tool;
  std::vector<std::string> all = {path};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::optional<PostgresUser> user;
  if (RunningAsRoot()) user = LookUpPostgresUser();

  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  pid_t pid = ::fork();
  if (pid == 0) ExecAs(user, dir_.c_str(), log_fd, path.c_str(), argv.data());
  if (log_fd >= 0) ::close(log_fd);
  if (pid < 0) return Status::Internal("fork: " + std::string(std::strerror(errno)));
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return Status::OK();
  std::string how = WIFEXITED(wstatus) ? "exit " + std::to_string(WEXITSTATUS(wstatus))
                                       : "signal " + std::to_string(WTERMSIG(wstatus));
  return Status::Unavailable(tool + " " + (args.empty() ? "" : args.back()) + " failed (" + how +
                             "); log " + log_path_ + ":\n" + Tail(Log(), 2000));
}

std::string PostgresServer::Uri(const std::string& dbname) const {
  return "postgresql://courier@127.0.0.1:" + std::to_string(port_) + "/" + dbname;
}

std::string PostgresServer::Log() const { return ReadFile(log_path_); }

Result<std::string> PostgresServer::CreateDatabase() {
  const std::string name = DatabaseName(++databases_made_);
  PGconn* conn = ::PQconnectdb(Uri().c_str());
  if (::PQstatus(conn) != CONNECTION_OK) {
    std::string error = ::PQerrorMessage(conn);
    ::PQfinish(conn);
    return Status::Unavailable("connect to " + Uri() + ": " + error);
  }
  PGresult* res = ::PQexec(conn, ("CREATE DATABASE \"" + name + "\"").c_str());
  const bool ok = ::PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string error = ok ? "" : ::PQerrorMessage(conn);
  ::PQclear(res);
  ::PQfinish(conn);
  if (!ok) return Status::Unavailable("CREATE DATABASE " + name + ": " + error);
  return Uri(name);
}

Status PostgresServer::Stop() {
  Status stopped = RunTool("pg_ctl", {"-D", data_dir_, "-m", "fast", "-w", "-t", "60", "stop"});
  if (stopped.ok()) running_ = false;
  return stopped;
}

Status PostgresServer::Start() {
  Status started = RunTool("pg_ctl", {"-D", data_dir_, "-l", log_path_, "-w", "-t", "60", "start"});
  running_ = started.ok();
  return started;
}

pid_t PostgresServer::PostmasterPid() const {
  std::ifstream in(data_dir_ + "/postmaster.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0 || !IsAlive(static_cast<pid_t>(pid))) return 0;
  return static_cast<pid_t>(pid);
}

Status PostgresServer::Crash() {
  const pid_t postmaster = PostmasterPid();
  if (postmaster == 0) return Status::Conflict("no postmaster running in " + data_dir_);
  // Stopped first, so it forks no backend between the listing of its
  // children and the kill.
  ::kill(postmaster, SIGSTOP);
  std::vector<pid_t> victims = ChildrenOf(postmaster);
  victims.push_back(postmaster);
  for (pid_t pid : victims) ::kill(pid, SIGKILL);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::any_of(victims.begin(), victims.end(), IsAlive)) {
    if (std::chrono::steady_clock::now() > deadline) return Status::Internal("postgres processes survived kill -9");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  running_ = false;
  // What the next postmaster would clean up itself, were the dead ones
  // not left as zombies where PID 1 reaps no orphans (kill(pid, 0) on a
  // zombie succeeds, so the lock files would look held): the data dir's
  // lock file, the System V shared memory header it names ("key shmid",
  // line 7), and the socket's lock file.
  std::ifstream lock(data_dir_ + "/postmaster.pid");
  std::string line;
  for (int n = 1; std::getline(lock, line); ++n) {
    if (n != 7) continue;
    std::istringstream ids(line);
    long key = 0;
    int shmid = -1;
    if (ids >> key >> shmid && shmid >= 0) ::shmctl(shmid, IPC_RMID, nullptr);
  }
  lock.close();
  std::error_code ignored;
  fs::remove(data_dir_ + "/postmaster.pid", ignored);
  // The socket's lock file names the dead postmaster too.
  fs::remove(dir_ + "/.s.PGSQL." + std::to_string(port_) + ".lock", ignored);
  return Status::OK();
}

PostgresServer* SharedPostgresServer(std::string* error) {
  static std::mutex mu;
  static std::unique_ptr<PostgresServer> server;
  static std::string failure;
  std::lock_guard<std::mutex> lock(mu);
  if (!server && failure.empty()) {
    auto made = PostgresServer::Create();
    if (made.ok()) {
      server = std::move(made).value();
    } else {
      failure = made.status().ToString();
    }
  }
  if (!server && error != nullptr) *error = failure;
  return server.get();
}

Result<std::string> NewSharedDatabase() {
  std::string error;
  PostgresServer* server = SharedPostgresServer(&error);
  if (server == nullptr) return Status::Unavailable(error);
  return server->CreateDatabase();
}

}  // namespace courier::testing
