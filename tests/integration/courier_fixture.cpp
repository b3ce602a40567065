#include "courier_fixture.h"

#include <mutex>
#include <thread>

#include "dangling_references.h"
#include "http/http_client.h"
#include "postgres_server.h"

namespace courier::testing {

void PrintTo(Engine engine, std::ostream* out) {
  *out << (engine == Engine::kSQLite ? "SQLite" : "PostgreSQL");
}

std::string EngineName(const ::testing::TestParamInfo<Engine>& info) {
  return info.param == Engine::kSQLite ? "SQLite" : "PostgreSQL";
}

void CourierFixture::UseEngine(Engine engine) {
  engine_ = engine;
  if (engine == Engine::kPostgreSQL) UsePostgresStore(&env_);
}

void UsePostgresStore(std::map<std::string, std::string>* env) {
  COURIER_SKIP_UNLESS_POSTGRES();
  auto url = courier::testing::NewSharedDatabase();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  (*env)["COURIER_DB"] = *url;
}

void CourierFixture::UseOwnPostgresServer() {
  COURIER_SKIP_UNLESS_POSTGRES();
  auto made = PostgresServer::Create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  own_server_ = std::move(made).value();
  auto url = own_server_->CreateDatabase();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  engine_ = Engine::kPostgreSQL;
  env_["COURIER_DB"] = *url;
}

CourierFixture::~CourierFixture() = default;

void CourierFixture::TearDown() {
  if (engine_ != Engine::kPostgreSQL) return;
  auto dangling = DanglingReferences(env_["COURIER_DB"]);
  if (dangling.status().IsUnavailable()) return;
  ASSERT_TRUE(dangling.ok()) << dangling.status().ToString();
  EXPECT_EQ(*dangling, "");
}

CourierFixture::CourierFixture()
    : port_(FreePort()),
      env_{{"COURIER_DB", dir_.File("courier.db")},
           {"COURIER_SPOOL_DIR", dir_.File("spool")},
           {"COURIER_RUN_DIR", dir_.File("run")},
           {"COURIER_MEDIA_DIR", dir_.File("media")},
           {"COURIER_PORT", std::to_string(port_)},
           {"COURIER_ADDRESS", "127.0.0.1"},
           {"COURIER_LOG_LEVEL", "warn"}},
      recv_http_(NewLoopbackHttpClient()) {}

RunResult CourierFixture::Ctl(std::vector<std::string> args, const std::string& input) {
  args.insert(args.begin(), Bin("courier-ctl"));
  return RunProgram(args, input, env_);
}

void CourierFixture::InitStore() {
  auto init = Ctl({"init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
}

std::string CourierFixture::AddChannel(const std::string& type, const std::vector<std::string>& config,
                                       const std::string& address, const std::vector<std::string>& options) {
  std::vector<std::string> args = {"channel", "add", "--type", type, "--address", address, "--country", "RW"};
  for (const auto& setting : config) args.insert(args.end(), {"--config", setting});
  args.insert(args.end(), options.begin(), options.end());
  auto added = Ctl(args);
  auto lines = Lines(added.out);
  if (added.exit_code != 0 || lines.empty()) {
    ADD_FAILURE() << "channel add --type " << type << ": " << added.err;
    return "";
  }
  return lines.front();
}

std::string CourierFixture::AddReceiveOnlyExternal() {
  return AddChannel("EX", {"send_url=http://127.0.0.1:9/send"});
}

std::string CourierFixture::AddReceiveOnlyKannel() {
  return AddChannel("KN", {"send_url=http://127.0.0.1:9/cgi-bin/sendsms", "username=courier", "password=kannel-s3cret"});
}

void CourierFixture::StartRecv(std::vector<std::string> extra) {
  std::vector<std::string> argv = {Bin("courier-recv")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  recv_ = std::make_unique<Daemon>(argv, env_, dir_.File("recv.log"));
  ASSERT_TRUE(recv_->WaitForHttp(port_)) << recv_->log();
}

HttpExchange CourierFixture::PostForm(const std::string& path, const std::string& body) {
  HttpRequestSpec req;
  req.method = "POST";
  req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = body;
  return recv_http_->Do(req);
}

std::unique_ptr<Daemon> CourierFixture::Start(const std::string& program, std::vector<std::string> extra) {
  std::vector<std::string> argv = {Bin(program)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<Daemon>(argv, env_, dir_.File(program + ".log"));
}

std::vector<json::ObjectPtr> CourierFixture::ListMsgs(std::vector<std::string> filters) {
  std::vector<std::string> args = {"msgs", "list", "--limit", "1000000", "--json"};
  args.insert(args.end(), filters.begin(), filters.end());
  return JsonLines(Ctl(args).out);
}

std::vector<json::ObjectPtr> CourierFixture::OutgoingMsgs(const std::string& status) {
  std::vector<std::string> filters = {"--direction", "out"};
  if (!status.empty()) filters.insert(filters.end(), {"--status", status});
  return ListMsgs(filters);
}

std::map<std::string, int> CourierFixture::StoredTexts() {
  std::map<std::string, int> texts;
  for (const auto& msg : ListMsgs({"--direction", "in"})) texts[json::GetStringOrEmpty(msg, "text")]++;
  return texts;
}

size_t CourierFixture::SpoolCount(const std::string& state) {
  size_t n = 0;
  // Intakes, not files: a file holds one, or a writer's whole batch.
  for (const auto& file : JsonLines(Ctl({"spool", "--json"}).out))
    if (json::GetStringOrEmpty(file, "dir") == state) n += static_cast<size_t>(json::GetInt(file, "intakes").value_or(1));
  return n;
}

std::set<int> CourierFixture::PostWebhooks(const std::string& channel, const Burst& burst) {
  std::set<int> ok;
  std::mutex mu;
  std::atomic<int> next{burst.from};
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/c/ex/" + channel + "/receive";
  std::vector<std::thread> pool;
  for (int t = 0; t < burst.threads; ++t) {
    pool.emplace_back([&] {
      auto http = NewLoopbackHttpClient(HttpClientOptions{10});
      for (int n = next++; n < burst.to && !(burst.stop && *burst.stop); n = next++) {
        HttpRequestSpec req;
        req.method = "POST";
        req.url = url;
        req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
        req.body = "from=0788383383&text=webhook-" + std::to_string(n);
        if (burst.pad > 0) req.body += "&pad=" + std::string(burst.pad, 'p');
        const int code = http->Do(req).status_code;
        if (code == 200) {
          std::lock_guard<std::mutex> lock(mu);
          ok.insert(n);
        } else if (code == 503 && burst.refused) {
          ++*burst.refused;
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  return ok;
}

}  // namespace courier::testing
