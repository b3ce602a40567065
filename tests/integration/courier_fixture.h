#pragma once
// CourierFixture: what most integration tests share, so that each test
// file states only what it adds. One temporary store, spool and run dir;
// the environment every program of the suite reads them from; courier-ctl;
// channels; courier-recv on a free loopback port and webhooks into it; the
// other daemons; what the store and the spool hold.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/json.h"
#include "harness.h"
#include "http/http_client.h"

namespace courier::testing {

class PostgresServer;

// The store engine a test runs on. env_'s COURIER_DB names a SQLite file
// in dir_ until UseEngine(kPostgreSQL) replaces it with a new database on
// the test process's shared PostgreSQL server (SharedPostgresServer: one
// server per process, a database per test, so the PostgreSQL half of a
// suite costs tens of milliseconds a test, not a server start).
enum class Engine { kSQLite, kPostgreSQL };
void PrintTo(Engine engine, std::ostream* out);
// "SQLite" / "PostgreSQL": the last part of a parameterised test's name.
std::string EngineName(const ::testing::TestParamInfo<Engine>& info);

// Sets (*env)["COURIER_DB"] to a new database on the test process's shared
// PostgreSQL server. Skips the test when no server can be made here (fails
// it under CI, which installs one); the caller checks IsSkipped().
void UsePostgresStore(std::map<std::string, std::string>* env);

class CourierFixture : public ::testing::Test {
 protected:
  // env_ names the store, spool and run dir in dir_, courier-recv's
  // address (127.0.0.1) and port_, and log level warn. A test changes or
  // adds entries before it runs the program that should see them.
  CourierFixture();
  ~CourierFixture() override;
  // On PostgreSQL: the test fails if a row of the store names a parent
  // that does not exist (dangling_references.h); a server the test left
  // stopped is not checked.
  void TearDown() override;

  // Points env_'s COURIER_DB at a store of `engine` (see Engine);
  // before anything uses the store. kPostgreSQL skips the test when no
  // server can be made here (fails it under CI, which installs one).
  void UseEngine(Engine engine);
  Engine engine() const { return engine_; }
  // A PostgreSQL server of the test's own as the store (one the test may
  // stop, crash or restart: never the shared one, which other tests keep
  // using), reached by own_server(). Skips the test where no server can be
  // made (fails it under CI); the caller returns when IsSkipped().
  void UseOwnPostgresServer();
  PostgresServer& own_server() { return *own_server_; }
  // COURIER_DB: the store's file path or postgresql:// url.
  std::string StoreUrl() { return env_["COURIER_DB"]; }

  // courier-ctl with env_, `input` on its stdin.
  RunResult Ctl(std::vector<std::string> args, const std::string& input = "");

  // courier-ctl init; the test fails if it does.
  void InitStore();

  // courier-ctl channel add of `type` at `address` in RW with each of
  // `config` ("key=value") and `options` (e.g. {"--tps", "20"}); returns
  // the new channel's uuid, or "" after failing the test.
  std::string AddChannel(const std::string& type, const std::vector<std::string>& config,
                         const std::string& address = "1234", const std::vector<std::string>& options = {});

  // Receive-only EX and KN channels (a channel still needs what it would
  // send with), as the tests of webhooks post to.
  std::string AddReceiveOnlyExternal();
  std::string AddReceiveOnlyKannel();

  // Starts courier-recv with `extra` arguments and waits until it answers.
  void StartRecv(std::vector<std::string> extra = {});

  // POSTs the form `body` (application/x-www-form-urlencoded) to `path`
  // on courier-recv, as a provider's webhook.
  HttpExchange PostForm(const std::string& path, const std::string& body);

  // Starts `program` (a daemon of the suite) with env_ and `extra`
  // arguments, its output in dir_/<program>.log.
  std::unique_ptr<Daemon> Start(const std::string& program, std::vector<std::string> extra = {});

  // Every msg `courier-ctl msgs list --json` lists with `filters` (e.g.
  // {"--direction", "out", "--status", "F"}), oldest first.
  std::vector<json::ObjectPtr> ListMsgs(std::vector<std::string> filters = {});
  // The outgoing msgs, those in `status` (Q, W, E, F, ...) unless it is "".
  std::vector<json::ObjectPtr> OutgoingMsgs(const std::string& status = "");

  // text -> how many stored incoming msgs have it: what the fault tests
  // count to find a webhook lost or stored twice.
  std::map<std::string, int> StoredTexts();

  // Files in the spool's `state` directory (new, cur, bad), as
  // `courier-ctl spool --json` lists them.
  // Intakes in spool/STATE (a file holds one, or a writer's whole batch).
  size_t SpoolCount(const std::string& state);

  // Posts webhooks to `channel` (an EX channel) on courier-recv at port_,
  // texts "webhook-N" for N in [from, to), from `threads` threads; returns
  // the Ns answered 200. Each body is padded by `pad` bytes; `refused`
  // counts the 503s; the threads stop early once `stop` is set.
  struct Burst {
    int from = 0, to = 0, threads = 1;
    size_t pad = 0;
    std::atomic<int>* refused = nullptr;
    std::atomic<bool>* stop = nullptr;
  };
  std::set<int> PostWebhooks(const std::string& channel, const Burst& burst);

  TempDir dir_;
  Engine engine_ = Engine::kSQLite;
  int port_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Daemon> recv_;
  std::unique_ptr<HttpClient> recv_http_;  // PostForm's
  std::unique_ptr<PostgresServer> own_server_;
};

}  // namespace courier::testing

namespace courier::testing {

// A suite's fixture (one with UseEngine(Engine)) run on both engines:
// `using RecvTest = OnBothEngines<RecvFixture>;`, its tests TEST_P, and
// COURIER_INSTANTIATE_ON_BOTH_ENGINES(RecvTest). The engine is chosen
// before Fixture::SetUp, so the fixture's courier-ctl init, channels and
// daemons already use it. Tests whose fault is a SQLite file's (a lock
// held by another process, a read-only or unlinked file, file modes,
// the WAL) stay TEST_F on Fixture itself.
template <class Fixture>
class OnBothEngines : public Fixture, public ::testing::WithParamInterface<Engine> {
 protected:
  void SetUp() override {
    this->UseEngine(this->GetParam());
    if (::testing::Test::HasFatalFailure() || ::testing::Test::IsSkipped()) return;
    Fixture::SetUp();
  }
};

}  // namespace courier::testing

#define COURIER_INSTANTIATE_ON_BOTH_ENGINES(Suite)                                                    \
  INSTANTIATE_TEST_SUITE_P(Engines, Suite,                                                           \
                           ::testing::Values(::courier::testing::Engine::kSQLite,                    \
                                             ::courier::testing::Engine::kPostgreSQL),               \
                           ::courier::testing::EngineName)
