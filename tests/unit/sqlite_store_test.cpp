// The SQLite store against real database files in a temporary directory:
// every Store method, the fair claim, status transitions, events, and the
// failure mapping (locked database, read-only file).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "dangling_references.h"
#include "postgres_server.h"
#include "temp_dir.h"
#include "core/log.h"
#include "core/uuid.h"
#include "store/schema.h"
#include "store/sqlite_engine.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "store/store.h"
#include "store/wal_checkpointer.h"
#include "store_test_helpers.h"

#include <libpq-fe.h>
#include <sqlite3.h>

using namespace courier;
using namespace Poco::Data::Keywords;

using courier::testing::ScratchDir;
using courier::testing::GetChannelById;
using courier::testing::GetContactByURN;
using courier::testing::WriteIncoming;

namespace {

constexpr Micros kStart = 1'500'000'000LL * kMicrosPerSecond;

Poco::JSON::Object::Ptr ParseObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

enum class Engine { kSQLite, kPostgreSQL };

// Names the engine in test names and failure messages.
void PrintTo(Engine engine, std::ostream* out) { *out << (engine == Engine::kSQLite ? "SQLite" : "PostgreSQL"); }

// A fresh store on either engine: a SQLite file in a scratch directory, or
// a new database on the test process's shared PostgreSQL server.
class StoreFixture : public ::testing::Test {
 protected:
  StoreFixture() : clock_(kStart), db_path_(dir_.path() + "/courier.db") {}

  void OpenStore(Engine engine) {
    engine_ = engine;
    if (engine == Engine::kPostgreSQL) {
      COURIER_SKIP_UNLESS_POSTGRES();
      auto uri = courier::testing::NewSharedDatabase();
      ASSERT_TRUE(uri.ok()) << uri.status().ToString();
      pg_uri_ = *uri;
      auto store = std::make_unique<PgStore>(pg_uri_, "store-test", clock_);
      ASSERT_TRUE(store->Open().ok());
      store_ = std::move(store);
    } else {
      auto store = std::make_unique<SqliteStore>(db_path_, clock_);
      ASSERT_TRUE(store->Open().ok());
      store_ = std::move(store);
    }
    Status s = store_->Migrate();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  Channel AddChannel(const std::string& type = "EX", int max_workers = 0) {
    Channel c;
    c.type = type;
    c.name = "test " + type;
    c.address = "+250788000001";
    c.country = "RW";
    c.schemes = {"tel"};
    c.max_workers = max_workers;
    auto added = store_->AddChannel(c);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return *added;
  }

  Msg Incoming(const Channel& ch, const std::string& urn, const std::string& text,
               const std::string& external_id = "") {
    Msg m;
    m.channel_uuid = ch.uuid;
    m.urn = urn;
    m.text = text;
    m.external_id = external_id;
    return m;
  }

  Msg Outgoing(const Channel& ch, const std::string& urn, const std::string& text,
               Priority priority = Priority::kHigh) {
    Msg m;
    m.channel_uuid = ch.uuid;
    m.direction = Direction::kOut;
    m.urn = urn;
    m.text = text;
    m.priority = priority;
    return m;
  }

  // Queues `n` msgs on `ch`, returning their ids in order.
  std::vector<int64_t> Queue(const Channel& ch, int n, Priority priority = Priority::kBulk) {
    std::vector<Msg> msgs;
    for (int i = 0; i < n; ++i) {
      msgs.push_back(Outgoing(ch, "tel:+25078800" + std::to_string(1000 + i % 100),
                              "msg " + std::to_string(i), priority));
    }
    auto queued = store_->QueueOutgoing(msgs);
    EXPECT_TRUE(queued.ok()) << queued.status().ToString();
    std::vector<int64_t> ids;
    for (const auto& m : *queued) ids.push_back(m.id);
    return ids;
  }

  std::vector<Msg> Claim(int limit, const std::string& worker = "host:1",
                         std::map<int64_t, int> caps = {}, int default_max_workers = 32) {
    ClaimRequest req;
    req.worker = worker;
    req.now = clock_.Now();
    req.limit = limit;
    req.channel_caps = std::move(caps);
    req.default_max_workers = default_max_workers;
    auto claimed = store_->ClaimQueued(req);
    EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
    return claimed.ok() ? *claimed : std::vector<Msg>{};
  }

  StatusResult WriteStatus(const Channel& ch, int64_t id, MsgStatus status,
                           const std::string& new_external_id = "") {
    StatusUpdate u;
    u.channel_uuid = ch.uuid;
    u.msg_id = id;
    u.status = status;
    u.new_external_id = new_external_id;
    auto r = store_->WriteStatus(u);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : StatusResult{};
  }

  // `batches` WriteIntakes calls of `per_batch` incoming msgs with 1 KiB
  // texts, each from its own contact.
  void WriteKilobyteMsgs(const Channel& ch, int batches, int per_batch) {
    const std::string text(1024, 'x');
    for (int batch = 0; batch < batches; ++batch) {
      std::vector<Intake> intakes;
      for (int i = 0; i < per_batch; ++i) {
        Intake in;
        in.channel_uuid = ch.uuid;
        in.msgs.push_back(Incoming(ch, "tel:+2507880" + std::to_string(10000 + batch * per_batch + i), text));
        intakes.push_back(std::move(in));
      }
      auto written = store_->WriteIntakes(intakes, nullptr);
      ASSERT_TRUE(written.ok()) << written.status().ToString();
    }
  }

  // The one integer `sql` selects, read on a connection of its own.
  int64_t CountRows(const std::string& sql) {
    if (engine_ == Engine::kPostgreSQL) {
      PGconn* conn = ::PQconnectdb(pg_uri_.c_str());
      PGresult* res = ::PQexec(conn, sql.c_str());
      int64_t n = -1;
      if (::PQresultStatus(res) == PGRES_TUPLES_OK && ::PQntuples(res) == 1) {
        n = std::strtoll(::PQgetvalue(res, 0, 0), nullptr, 10);
      } else {
        ADD_FAILURE() << sql << ": " << ::PQerrorMessage(conn);
      }
      ::PQclear(res);
      ::PQfinish(conn);
      return n;
    }
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session s(Poco::Data::SQLite::Connector::KEY, db_path_);
    int64_t n = 0;
    s << sql, into(n), now;
    return n;
  }

  std::vector<Event> AllEvents() {
    auto events = store_->EventsAfter(0, 100000);
    EXPECT_TRUE(events.ok());
    return events.ok() ? *events : std::vector<Event>{};
  }

  // Another connection to the same store, for a second writer or reader.
  std::unique_ptr<Store> OpenAnother() {
    auto store = courier::OpenStore(engine_ == Engine::kPostgreSQL ? pg_uri_ : db_path_, clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  ScratchDir dir_;
  ManualClock clock_;
  std::string db_path_;
  Engine engine_ = Engine::kSQLite;
  std::string pg_uri_;
  std::unique_ptr<SqlStore> store_;
};

// Every Store method's behaviour, on both engines.
class StoreTest : public StoreFixture, public ::testing::WithParamInterface<Engine> {
 protected:
  void SetUp() override {
    // Every batch must be written the fast way: the careful way gives the
    // same results, so a broken fast path would pass every other check.
    Log::SetSinkForTest([this](const std::string& line) {
      if (line.find("fast way") == std::string::npos) return;
      std::lock_guard<std::mutex> lock(fast_way_failures_mu_);
      fast_way_failures_.push_back(line);
    });
    OpenStore(GetParam());
  }
  void TearDown() override {
    Log::SetSinkForTest(nullptr);
    for (const auto& line : fast_way_failures_) ADD_FAILURE() << line;
    // PostgreSQL keeps no foreign keys on the msg tables: whatever the
    // test wrote must still resolve.
    if (engine_ != Engine::kPostgreSQL || pg_uri_.empty()) return;
    auto dangling = courier::testing::DanglingReferences(pg_uri_);
    ASSERT_TRUE(dangling.ok()) << dangling.status().ToString();
    EXPECT_EQ(*dangling, "");
  }

 private:
  std::mutex fast_way_failures_mu_;
  std::vector<std::string> fast_way_failures_;
};

INSTANTIATE_TEST_SUITE_P(Engines, StoreTest, ::testing::Values(Engine::kSQLite, Engine::kPostgreSQL),
                         [](const ::testing::TestParamInfo<Engine>& info) {
                           return info.param == Engine::kSQLite ? "SQLite" : "PostgreSQL";
                         });

// What only the SQLite engine has (its file, the WAL).
class SqliteStoreTest : public StoreFixture {
 protected:
  void SetUp() override { OpenStore(Engine::kSQLite); }
  SqliteStore& sqlite() { return static_cast<SqliteStore&>(*store_); }
};

// --- Opening and schema --------------------------------------------------------

TEST(SqliteStoreOpenTest, MissingDirectoryIsUnavailable) {
  ScratchDir dir;
  ManualClock clock(kStart);
  SqliteStore store(dir.path() + "/no/such/dir/courier.db", clock);
  Status s = store.Open();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("does not exist"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/no"));
  // And every method says the same instead of throwing.
  EXPECT_EQ(store.GetChannel("x").status().code(), Status::Code::kUnavailable);
}

TEST(SqliteStoreOpenTest, UnmigratedStoreSaysRunInit) {
  ScratchDir dir;
  ManualClock clock(kStart);
  SqliteStore store(dir.path() + "/courier.db", clock);
  ASSERT_TRUE(store.Open().ok());
  auto version = store.SchemaVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 0);
  for (const Status& s : {store.GetChannel("x").status(), store.ListChannels().status(),
                          store.Ping(), store.Queue().status(),
                          store.LastEventSeq().status()}) {
    EXPECT_EQ(s.code(), Status::Code::kUnavailable);
    EXPECT_EQ(s.message(), "store not initialised: run courier-ctl init");
  }
  ASSERT_TRUE(store.Migrate().ok());
  ASSERT_TRUE(store.Migrate().ok());  // idempotent
  EXPECT_EQ(*store.SchemaVersion(), schema::CurrentVersion());
  EXPECT_TRUE(store.Ping().ok());
  EXPECT_TRUE(store.ListChannels().ok());
}

// CTest runs each test in a process of its own, so this store is the
// first thing here to touch SQLite, as in the daemons.
TEST(SqliteStoreOpenTest, FirstStoreTurnsOffSqlitesPerConnectionLocks) {
  ScratchDir dir;
  ManualClock clock(kStart);
  SqliteStore store(dir.path() + "/courier.db", clock);
  ASSERT_TRUE(store.Open().ok());
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir.path() + "/courier.db").c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  // Multi-thread mode: a connection has no mutex of its own.
  EXPECT_EQ(sqlite3_db_mutex(raw), nullptr);
  // Asked for explicitly, a connection can still have one.
  sqlite3* serialized = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir.path() + "/courier.db").c_str(), &serialized,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_db_mutex(serialized), nullptr);
  sqlite3_close(serialized);
  sqlite3_close(raw);
}

// A store created and migrated at `path`, then a raw POCO session on the
// file (to read what the store wrote, or to write what it would refuse).
Poco::Data::Session MigratedSession(const std::string& path, ManualClock& clock) {
  {
    SqliteStore store(path, clock);
    EXPECT_TRUE(store.Open().ok());
    EXPECT_TRUE(store.Migrate().ok());
  }
  Poco::Data::SQLite::Connector::registerConnector();
  return Poco::Data::Session(Poco::Data::SQLite::Connector::KEY, path);
}

TEST(SqliteStoreOpenTest, ConnectionUsesWalAndFullSync) {
  ScratchDir dir;
  ManualClock clock(kStart);
  Poco::Data::Session s = MigratedSession(dir.path() + "/courier.db", clock);
  std::string mode;
  s << "PRAGMA journal_mode", into(mode), now;
  EXPECT_EQ(mode, "wal");  // WAL is a property of the file once set
  int64_t version = 0;
  s << "SELECT MAX(version) FROM schema_version", into(version), now;
  EXPECT_EQ(version, schema::CurrentVersion());
  // Version 3 dropped an index nothing used.
  int64_t unused_index = -1;
  s << "SELECT COUNT(*) FROM sqlite_master WHERE name = 'idx_msgs_created_on'", into(unused_index), now;
  EXPECT_EQ(unused_index, 0);
}

// sqlite_cache_mb: each connection opened after it is set keeps at most
// that much page cache (PRAGMA cache_size in KiB, negative).
TEST(SqliteStoreOpenTest, ConnectionsTakeTheOperatorsPageCacheBound) {
  ScratchDir dir;
  const int before = SqliteCacheMiB();
  EXPECT_EQ(before, 32);
  auto cache_of_a_new_connection = [&]() -> int64_t {
    SqliteEngine engine(dir.path() + "/courier.db", 1000, StoreAccess::kReadWrite);
    EXPECT_TRUE(engine.Connect().ok());
    auto q = engine.Statements()("PRAGMA cache_size");
    return q.Step() ? q.Int(0) : 0;
  };
  EXPECT_EQ(cache_of_a_new_connection(), -32 * 1024);
  SetSqliteCacheMiB(2);
  EXPECT_EQ(cache_of_a_new_connection(), -2 * 1024);
  SetSqliteCacheMiB(0);  // below the bound: one
  EXPECT_EQ(cache_of_a_new_connection(), -1024);
  SetSqliteCacheMiB(before);
}

TEST(SqliteStoreOpenTest, Version4RewritesTheStatusCheckAndStillRefusesBadStatuses) {
  ScratchDir dir;
  ManualClock clock(kStart);
  Poco::Data::Session s = MigratedSession(dir.path() + "/courier.db", clock);
  std::string sql;
  s << "SELECT sql FROM sqlite_schema WHERE name = 'msgs'", into(sql), now;
  EXPECT_EQ(sql.find("status IN ("), std::string::npos) << sql;
  EXPECT_NE(sql.find("instr('PQWSDREF', status)"), std::string::npos) << sql;
  std::string integrity;
  s << "PRAGMA integrity_check", into(integrity), now;
  EXPECT_EQ(integrity, "ok");
  s << "INSERT INTO channels (uuid, channel_type, created_on, modified_on) VALUES ('c', 'EX', 0, 0)", now;
  auto insert = [&](const std::string& status) {
    try {
      s << "INSERT INTO msgs (uuid, channel_id, direction, status, urn, created_on, modified_on) "
           "VALUES ('" + NewUUID() + "', 1, 'I', '" + status + "', 'tel:+1', 0, 0)", now;
      return true;
    } catch (const Poco::Exception&) {
      return false;
    }
  };
  for (const char* good : {"P", "Q", "W", "S", "D", "R", "E", "F"}) EXPECT_TRUE(insert(good)) << good;
  for (const char* bad : {"", "X", "p", "PQ", "QW", "WSD"}) EXPECT_FALSE(insert(bad)) << bad;
}

// A store made by the version before URN auths (schema 4, built here from
// its own migrations) with a contact and a queued msg: Migrate() upgrades
// it in place, the rows stay, and the URN can take an auth.
TEST(SqliteStoreOpenTest, Version4StoreIsUpgradedWithItsContactsAndMsgs) {
  ScratchDir dir;
  ManualClock clock(kStart);
  const std::string path = dir.path() + "/courier.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    auto exec = [&](const std::string& sql) {
      char* error = nullptr;
      EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << sql << ": " << (error ? error : "");
      sqlite3_free(error);
    };
    exec("PRAGMA journal_mode = WAL");
    exec(schema::VersionTableDDL());
    for (const auto& m : schema::Migrations(schema::Dialect::kSQLite)) {
      if (m.version > 4) break;
      for (const auto& ddl : m.statements) exec(ddl);
      if (m.edits_schema_text) {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &st, nullptr);
        sqlite3_step(st);
        const int64_t cookie = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        exec("PRAGMA schema_version = " + std::to_string(cookie + 1));
      }
      exec("INSERT INTO schema_version (version, description, applied_on) VALUES (" + std::to_string(m.version) +
           ", 'test', 0)");
    }
    exec("INSERT INTO channels (id, uuid, channel_type, schemes, created_on, modified_on) "
         "VALUES (1, '8eb23e93-5ecb-45ba-b726-3b064e0c56ab', 'FCM', 'fcm', 0, 0)");
    exec("INSERT INTO contacts (id, uuid, name, created_on, modified_on) "
         "VALUES (1, 'b6a6b2a2-3c1e-4c55-9d52-1d2f0c3b4a5e', 'Old', 0, 0)");
    exec("INSERT INTO contact_urns (id, urn, scheme, path, contact_id, channel_id) "
         "VALUES (1, 'fcm:12345', 'fcm', '12345', 1, 1)");
    exec("INSERT INTO msgs (uuid, channel_id, contact_id, contact_urn_id, direction, status, urn, text, "
         "next_attempt_on, created_on, modified_on) "
         "VALUES ('0191e180-7d60-7000-aded-7d8b151cbd5b', 1, 1, 1, 'O', 'Q', 'fcm:12345', 'queued before', 0, 0, 0)");
    sqlite3_close(db);
  }

  SqliteStore store(path, clock);
  ASSERT_TRUE(store.Open().ok());
  EXPECT_EQ(*store.SchemaVersion(), 4);
  EXPECT_TRUE(store.ListChannels().status().IsUnavailable());  // older schema: run init
  ASSERT_TRUE(store.Migrate().ok());
  EXPECT_EQ(*store.SchemaVersion(), schema::CurrentVersion());

  Intake in;
  in.channel_uuid = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";
  in.urn_auths.push_back({"fcm:12345", "token-after-upgrade", "", kStart});
  auto written = store.WriteIntakes({in}, nullptr);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_TRUE((*written)[0].status.ok()) << (*written)[0].status.ToString();
  EXPECT_EQ((*written)[0].urn_auths[0].contact_uuid, "b6a6b2a2-3c1e-4c55-9d52-1d2f0c3b4a5e");

  ClaimRequest req;
  req.worker = "test:1";
  req.now = kStart;
  req.urn_auth_types = {"FCM"};
  auto claimed = store.ClaimQueued(req);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].text, "queued before");
  EXPECT_EQ((*claimed)[0].urn_auth, "token-after-upgrade");
}

TEST(SqliteStoreOpenTest, OpenStoreUrls) {
  ScratchDir dir;
  ManualClock clock(kStart);
  for (const std::string& url : {dir.path() + "/a.db", "sqlite:" + dir.path() + "/b.db",
                                 "sqlite://" + dir.path() + "/c.db"}) {
    auto store = OpenStore(url, clock);
    ASSERT_TRUE(store.ok()) << url << ": " << store.status().ToString();
    EXPECT_TRUE((*store)->Migrate().ok());
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/a.db"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/b.db"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/c.db"));

  // A server that does not answer: Unavailable at once (callers spool),
  // and the password is not in the reason.
  auto pg = OpenStore("postgresql://user:hunter2@127.0.0.1:1/courier?connect_timeout=2", clock);
  EXPECT_EQ(pg.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(pg.status().message().rfind("connect to PostgreSQL: ", 0), 0u) << pg.status().message();
  EXPECT_EQ(pg.status().message().find("hunter2"), std::string::npos);
  EXPECT_EQ(OpenStore("mysql://x/y", clock).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(OpenStore(dir.path() + "/missing/x.db", clock).status().code(),
            Status::Code::kUnavailable);
}

TEST(PgStoreOpenTest, OpenStoreConnectsToAPostgresqlUrl) {
  COURIER_SKIP_UNLESS_POSTGRES();
  auto uri = courier::testing::NewSharedDatabase();
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  ManualClock clock(kStart);
  auto store = OpenStore(*uri, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->SchemaVersion().value(), 0);
  EXPECT_EQ((*store)->Ping().message(), "store not initialised: run courier-ctl init");
  ASSERT_TRUE((*store)->Migrate().ok());
  EXPECT_EQ((*store)->SchemaVersion().value(), schema::CurrentVersion());
  EXPECT_TRUE((*store)->Ping().ok());
  // Read-only: reads work, writes are refused.
  auto reader = OpenStore(*uri, clock, 5000, StoreAccess::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE((*reader)->ListChannels().ok());
  Channel ch;
  ch.type = "EX";
  ch.address = "1";
  EXPECT_TRUE((*reader)->AddChannel(ch).status().IsUnavailable());
  EXPECT_TRUE((*store)->AddChannel(ch).ok());
}

// --- Channels ------------------------------------------------------------------

TEST_P(StoreTest, ChannelsAddGetListRemove) {
  Channel c;
  c.type = "TG";
  c.name = "bot";
  c.address = "courierbot";
  c.schemes = {"telegram", "tel"};
  c.config = {{"auth_token", "secret-token"}, {"base_url", "http://127.0.0.1:9/"}};
  c.max_workers = 4;
  c.tps = 10;
  auto added = store_->AddChannel(c);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_GT(added->id, 0);
  EXPECT_EQ(added->uuid.size(), 36u);
  EXPECT_EQ(added->created_on, kStart);

  auto got = store_->GetChannel(added->uuid);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, added->id);
  EXPECT_EQ(got->type, "TG");
  EXPECT_EQ(got->name, "bot");
  EXPECT_EQ(got->address, "courierbot");
  EXPECT_EQ(got->schemes, (std::vector<std::string>{"telegram", "tel"}));
  EXPECT_EQ(got->config, c.config);
  EXPECT_EQ(got->max_workers, 4);
  EXPECT_EQ(got->tps, 10);
  EXPECT_EQ(GetChannelById(*store_, added->id)->uuid, added->uuid);

  Channel fixed;
  fixed.type = "EX";
  fixed.uuid = "DBC126ED-66BC-4E28-B67B-81DC3327C95D";
  auto second = store_->AddChannel(fixed);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->uuid, "dbc126ed-66bc-4e28-b67b-81dc3327c95d");
  EXPECT_EQ(store_->AddChannel(fixed).status().code(), Status::Code::kConflict);
  fixed.uuid = "not-a-uuid";
  EXPECT_EQ(store_->AddChannel(fixed).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->AddChannel(Channel{}).status().code(), Status::Code::kInvalidArgument);

  EXPECT_EQ(store_->ListChannels()->size(), 2u);
  ASSERT_TRUE(store_->RemoveChannel(added->uuid).ok());
  auto gone = store_->GetChannel(added->uuid);
  EXPECT_TRUE(gone.status().IsNotFound());
  EXPECT_EQ(gone.status().message(), "channel not found");
  EXPECT_TRUE(GetChannelById(*store_, added->id).status().IsNotFound());
  ASSERT_EQ(store_->ListChannels()->size(), 1u);
  EXPECT_EQ(store_->ListChannels()->front().uuid, second->uuid);
  EXPECT_TRUE(store_->RemoveChannel(added->uuid).IsNotFound());
  EXPECT_TRUE(store_->GetChannel("6a0ee8a4-04c2-4b9b-8a5c-0b5d1d0b7e3f").status().IsNotFound());
}

// A removed channel added again under its uuid comes back under its old
// id with what it is given now; an active one, or one of another type,
// is refused.
TEST_P(StoreTest, RemovedChannelAddedAgainIsReactivated) {
  Channel c;
  c.type = "TG";
  c.uuid = "dbc126ed-66bc-4e28-b67b-81dc3327c95d";
  c.address = "oldbot";
  c.schemes = {"telegram"};
  c.config = {{"auth_token", "old"}};
  auto added = store_->AddChannel(c);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ASSERT_TRUE(store_->RemoveChannel(c.uuid).ok());

  clock_.Advance(kMicrosPerSecond);
  c.address = "newbot";
  c.name = "again";
  c.config = {{"auth_token", "new"}};
  c.tps = 5;
  auto again = store_->AddChannel(c);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->id, added->id);
  EXPECT_EQ(again->created_on, added->created_on);
  auto got = store_->GetChannel(c.uuid);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id, added->id);
  EXPECT_EQ(got->address, "newbot");
  EXPECT_EQ(got->name, "again");
  EXPECT_EQ(got->config, c.config);
  EXPECT_EQ(got->tps, 5);
  EXPECT_EQ(store_->ListChannels()->size(), 1u);

  auto twice = store_->AddChannel(c);
  EXPECT_EQ(twice.status().code(), Status::Code::kConflict);
  EXPECT_NE(twice.status().message().find("exists already"), std::string::npos);

  ASSERT_TRUE(store_->RemoveChannel(c.uuid).ok());
  c.type = "EX";
  auto other_type = store_->AddChannel(c);
  EXPECT_EQ(other_type.status().code(), Status::Code::kConflict);
  EXPECT_NE(other_type.status().message().find("was removed as a TG channel"), std::string::npos)
      << other_type.status().message();
  EXPECT_TRUE(store_->GetChannel(c.uuid).status().IsNotFound());
}

// --- Incoming ------------------------------------------------------------------

TEST_P(StoreTest, WriteIncomingCreatesContactAndReusesIt) {
  Channel ch = AddChannel();
  Msg m = Incoming(ch, "tel:+250788383383", "hello", "ext-1");
  m.contact_name = "Ann";
  m.attachments = {"image/jpeg:https://x/y.jpg", "audio/mp3:https://x/z.mp3"};
  ChannelLog log;
  log.description = "Message Received";
  log.method = "POST";
  log.url = "/c/ex/" + ch.uuid + "/receive";
  log.status_code = 200;
  log.request = "POST ...";
  log.response = "{}";
  log.elapsed_ms = 3;
  auto r = WriteIncoming(*store_, m, {log});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->duplicate);
  EXPECT_GT(r->msg_id, 0);

  auto stored = store_->GetMsg(r->msg_id);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->uuid, r->msg_uuid);
  EXPECT_EQ(stored->channel_uuid, ch.uuid);
  EXPECT_EQ(stored->channel_type, "EX");
  EXPECT_EQ(stored->direction, Direction::kIn);
  EXPECT_EQ(stored->status, MsgStatus::kPending);
  EXPECT_EQ(stored->text, "hello");
  EXPECT_EQ(stored->attachments, m.attachments);
  EXPECT_EQ(stored->external_id, "ext-1");
  EXPECT_EQ(stored->contact_name, "Ann");
  ASSERT_TRUE(stored->received_on.has_value());
  EXPECT_EQ(*stored->received_on, kStart);  // defaults to now
  EXPECT_EQ(stored->created_on, kStart);

  auto contact = GetContactByURN(*store_, "tel:+250788383383");
  ASSERT_TRUE(contact.ok());
  EXPECT_EQ(contact->name, "Ann");
  EXPECT_EQ(contact->urns, (std::vector<std::string>{"tel:+250788383383"}));
  EXPECT_FALSE(contact->stopped);

  // A second msg from the same URN: same contact, no new one.
  clock_.Advance(kMicrosPerSecond);
  Msg again = Incoming(ch, "tel:+250788383383", "again", "ext-2");
  again.received_on = kStart - 5;
  auto r2 = WriteIncoming(*store_, again, {});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*store_->GetMsg(r2->msg_id)->received_on, kStart - 5);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM contacts"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM contact_urns"), 1);

  auto logs = store_->ListChannelLogs(r->msg_id, "", 10);
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].msg_id, r->msg_id);
  EXPECT_EQ((*logs)[0].channel_uuid, ch.uuid);
  EXPECT_EQ((*logs)[0].description, "Message Received");
  EXPECT_EQ((*logs)[0].status_code, 200);
  EXPECT_EQ((*logs)[0].created_on, kStart);

  auto events = AllEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].topic, "msg.received");
  auto payload = ParseObject(events[0].payload);
  EXPECT_EQ(payload->getValue<int64_t>("seq"), events[0].seq);
  EXPECT_EQ(payload->getValue<std::string>("topic"), "msg.received");
  EXPECT_EQ(payload->getValue<int64_t>("msg_id"), r->msg_id);
  EXPECT_EQ(payload->getValue<std::string>("msg_uuid"), r->msg_uuid);
  EXPECT_EQ(payload->getValue<std::string>("channel_uuid"), ch.uuid);
  EXPECT_EQ(payload->getValue<std::string>("urn"), "tel:+250788383383");
  EXPECT_EQ(payload->getValue<std::string>("text"), "hello");
  EXPECT_EQ(payload->getValue<std::string>("external_id"), "ext-1");
  EXPECT_EQ(payload->getArray("attachments")->size(), 2u);
  EXPECT_TRUE(payload->isNull("sent_on"));
}

TEST_P(StoreTest, WriteIncomingDedupsByExternalIdAndUuid) {
  Channel ch = AddChannel();
  Channel other = AddChannel("KN");
  auto first = WriteIncoming(*store_, Incoming(ch, "tel:+250788383383", "hi", "ext-9"), {});
  ASSERT_TRUE(first.ok());
  const int64_t events_before = *store_->LastEventSeq();

  ChannelLog log;
  log.description = "Message Received";
  auto dup = WriteIncoming(*store_, Incoming(ch, "tel:+250788383383", "hi again", "ext-9"), {log});
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->msg_id, first->msg_id);
  EXPECT_EQ(dup->msg_uuid, first->msg_uuid);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM channel_logs"), 0);
  EXPECT_EQ(*store_->LastEventSeq(), events_before);

  // The same provider id on another channel is another msg.
  auto elsewhere = WriteIncoming(*store_, Incoming(other, "tel:+250788383383", "hi", "ext-9"), {});
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_FALSE(elsewhere->duplicate);

  // No external id: never a duplicate.
  EXPECT_FALSE(WriteIncoming(*store_, Incoming(ch, "tel:+250788383383", "x"), {})->duplicate);
  EXPECT_FALSE(WriteIncoming(*store_, Incoming(ch, "tel:+250788383383", "x"), {})->duplicate);

  // A spool replay carries the uuid it was given the first time.
  Msg replay = Incoming(ch, "tel:+250788383384", "replayed");
  replay.uuid = "0b9bba8c-5b6f-4d55-9cf5-1b1c2a3d4e5f";
  auto once = WriteIncoming(*store_, replay, {});
  ASSERT_TRUE(once.ok());
  EXPECT_EQ(once->msg_uuid, replay.uuid);
  auto twice = WriteIncoming(*store_, replay, {});
  ASSERT_TRUE(twice.ok());
  EXPECT_TRUE(twice->duplicate);
  EXPECT_EQ(twice->msg_id, once->msg_id);
}

// A webhook without a provider id sent again by the provider
// (store/content_duplicates.h): the same words from the same URN on the
// same channel within the intake's window are the first msg, unless a msg
// was sent to the URN in between. Alone and within one batch (where the
// batch's own inserts are not yet in the store on PostgreSQL).
constexpr Micros kWindow = 4 * kMicrosPerSecond;

TEST_P(StoreTest, WriteIncomingTakesTheSameWordsSoonAgainForARetry) {
  Channel ch = AddChannel("EX");
  Channel other = AddChannel("EX");
  const std::string urn = "tel:+250788383383";
  auto intake = [&](const Channel& on, const std::string& text, Micros received_on,
                    std::vector<std::string> attachments = {}, const std::string& external_id = "",
                    Micros window = kWindow) {
    Intake in;
    in.channel_uuid = on.uuid;
    in.duplicate_window = window;
    Msg m = Incoming(on, urn, text, external_id);
    m.uuid = NewUUID();
    m.received_on = received_on;
    m.attachments = std::move(attachments);
    in.msgs.push_back(m);
    ChannelLog log;
    log.description = "Message Received";
    in.msg_logs.push_back(log);
    return in;
  };
  auto write = [&](const std::vector<Intake>& intakes) {
    auto written = store_->WriteIntakes(intakes, nullptr);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    std::vector<IncomingResult> results;
    if (!written.ok()) return results;
    for (const auto& out : *written) {
      EXPECT_TRUE(out.status.ok()) << out.status.ToString();
      if (out.msgs.size() == 1) results.push_back(out.msgs[0]);
    }
    EXPECT_EQ(results.size(), intakes.size());
    return results;
  };
  const Micros t = clock_.Now();

  auto first = write({intake(ch, "yes", t)});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].duplicate);
  const int64_t logs = CountRows("SELECT COUNT(*) FROM channel_logs");
  const int64_t seq = *store_->LastEventSeq();
  // The retry a second later: the first msg, no log, no event.
  auto retry = write({intake(ch, "yes", t + kMicrosPerSecond)});
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_TRUE(retry[0].duplicate);
  EXPECT_EQ(retry[0].msg_id, first[0].msg_id);
  EXPECT_EQ(retry[0].msg_uuid, first[0].msg_uuid);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM channel_logs"), logs);
  EXPECT_EQ(*store_->LastEventSeq(), seq);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 1);

  // Not a retry: another channel, other attachments, a provider id, the
  // window off, and the window past (measured from the stored msg).
  for (const Intake& different :
       {intake(other, "yes", t + kMicrosPerSecond), intake(ch, "yes", t + kMicrosPerSecond, {"image/jpeg:https://x/1.jpg"}),
        intake(ch, "yes", t + kMicrosPerSecond, {}, "provider-id-1"),
        intake(ch, "yes", t + kMicrosPerSecond, {}, "", 0)}) {
    auto r = write({different});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_FALSE(r[0].duplicate);
  }
  // The last "yes" on ch was written at t + 1 s (the window off), the one
  // before it carried an attachment: this one repeats the last.
  EXPECT_TRUE(write({intake(ch, "yes", t + 5 * kMicrosPerSecond)})[0].duplicate);
  EXPECT_FALSE(write({intake(ch, "yes", t + 5 * kMicrosPerSecond + kWindow + 1)})[0].duplicate);
  const int64_t msgs = CountRows("SELECT COUNT(*) FROM msgs");
  EXPECT_EQ(msgs, 6);

  // In one batch: the second repeats the first, written a moment before.
  const Micros later = t + 60 * kMicrosPerSecond;
  auto batch = write({intake(ch, "twice", later), intake(ch, "twice", later + kMicrosPerSecond / 2),
                      intake(ch, "other", later + kMicrosPerSecond), intake(ch, "other", later + kMicrosPerSecond)});
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_FALSE(batch[0].duplicate);
  EXPECT_TRUE(batch[1].duplicate);
  EXPECT_EQ(batch[1].msg_uuid, batch[0].msg_uuid);
  EXPECT_FALSE(batch[2].duplicate);
  EXPECT_TRUE(batch[3].duplicate);
  EXPECT_EQ(batch[3].msg_uuid, batch[2].msg_uuid);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), msgs + 2);

  // A msg sent to the URN between the two ends the window: the same
  // answer around our question is heard twice.
  clock_.Set(later + 10 * kMicrosPerSecond);
  auto asked = write({intake(ch, "ok", clock_.Now())});
  clock_.Advance(kMicrosPerSecond);
  auto queued = store_->QueueOutgoing({Outgoing(ch, urn, "are you sure?")});
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  // Queued but not sent yet: the user has not seen it.
  EXPECT_TRUE(write({intake(ch, "ok", clock_.Now())})[0].duplicate);
  ASSERT_EQ(Claim(1).size(), 1u);
  WriteStatus(ch, (*queued)[0].id, MsgStatus::kWired);
  clock_.Advance(kMicrosPerSecond);
  auto answered = write({intake(ch, "ok", clock_.Now())});
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_FALSE(answered[0].duplicate);
  EXPECT_NE(answered[0].msg_uuid, asked[0].msg_uuid);
  // And a retry of that one is again a retry.
  EXPECT_TRUE(write({intake(ch, "ok", clock_.Now() + kMicrosPerSecond)})[0].duplicate);
}

// Channel events (core/channel_event.h): each written once by its uuid,
// with its contact (created with the name given, an existing one's name
// kept), and one "channel.event" event; a replay of the same uuid writes
// nothing and answers the contact it has.
TEST_P(StoreTest, ChannelEventsAreWrittenOnceWithTheirContact) {
  Channel ch = AddChannel("EX");
  auto intake_of = [&](std::vector<ChannelEvent> events) {
    Intake in;
    in.channel_uuid = ch.uuid;
    in.channel_events = std::move(events);
    return in;
  };
  ChannelEvent started;
  started.uuid = NewUUID();
  started.type = ChannelEventType::kNewConversation;
  started.urn = "telegram:3527065";
  started.contact_name = "Nic";
  started.occurred_on = clock_.Now() - kMicrosPerSecond;
  ChannelEvent referral;
  referral.uuid = NewUUID();
  referral.type = ChannelEventType::kReferral;
  referral.urn = "telegram:3527065";
  referral.contact_name = "Nicolas";
  referral.extra = {{"ref", "summer \"sale\""}, {"source", "ADS"}};
  const int64_t seq = *store_->LastEventSeq();
  std::vector<Event> events;
  auto written = store_->WriteIntakes({intake_of({started, referral})}, &events);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_TRUE((*written)[0].status.ok()) << (*written)[0].status.ToString();
  ASSERT_EQ((*written)[0].channel_events.size(), 2u);
  const ChannelEventResult& first = (*written)[0].channel_events[0];
  EXPECT_FALSE(first.duplicate);
  EXPECT_FALSE(first.contact_uuid.empty());
  EXPECT_EQ((*written)[0].channel_events[1].contact_uuid, first.contact_uuid);
  auto contact = GetContactByURN(*store_, "telegram:3527065");
  ASSERT_TRUE(contact.ok()) << contact.status().ToString();
  EXPECT_EQ(contact->uuid, first.contact_uuid);
  EXPECT_EQ(contact->name, "Nic");  // the first name given; a later event's does not replace it
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM channel_events"), 2);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM channel_events WHERE event_type = 'referral' AND extra = "
                      "'{\"ref\":\"summer \\\"sale\\\"\",\"source\":\"ADS\"}'"),
            1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM channel_events WHERE event_type = 'new_conversation' AND occurred_on = " +
                      std::to_string(*started.occurred_on)),
            1);

  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].seq, seq + 1);
  EXPECT_EQ(events[0].topic, "channel.event");
  auto payload = json::ParseObject(events[1].payload);
  ASSERT_TRUE(payload.ok()) << events[1].payload;
  EXPECT_EQ(json::GetStringOrEmpty(*payload, "uuid"), referral.uuid);
  EXPECT_EQ(json::GetStringOrEmpty(*payload, "event_type"), "referral");
  EXPECT_EQ(json::GetStringOrEmpty(*payload, "urn"), "telegram:3527065");
  EXPECT_EQ(json::GetStringOrEmpty(*payload, "channel_uuid"), ch.uuid);
  EXPECT_EQ(json::GetStringOrEmpty(*payload, "channel_type"), "EX");
  EXPECT_EQ(json::GetStringOrEmpty(*payload, "contact_uuid"), first.contact_uuid);
  EXPECT_EQ(json::GetStringOrEmpty(json::GetObject(*payload, "extra"), "ref"), "summer \"sale\"");
  // An event without a time of its own took the write's.
  EXPECT_EQ(json::GetStringOrEmpty(*payload, "occurred_on"), FormatRfc3339(clock_.Now()));

  // Replayed (a spool file after its first commit): nothing more.
  events.clear();
  auto again = store_->WriteIntakes({intake_of({referral})}, &events);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ((*again)[0].channel_events.size(), 1u);
  EXPECT_TRUE((*again)[0].channel_events[0].duplicate);
  EXPECT_EQ((*again)[0].channel_events[0].contact_uuid, first.contact_uuid);
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM channel_events"), 2);

  // A bad URN sinks its own intake only.
  ChannelEvent bad = started;
  bad.uuid = NewUUID();
  bad.urn = "no-scheme";
  ChannelEvent other = started;
  other.uuid = NewUUID();
  other.urn = "telegram:42";
  auto mixed = store_->WriteIntakes({intake_of({bad}), intake_of({other})}, nullptr);
  ASSERT_TRUE(mixed.ok()) << mixed.status().ToString();
  EXPECT_FALSE((*mixed)[0].status.ok());
  EXPECT_TRUE((*mixed)[1].status.ok()) << (*mixed)[1].status.ToString();
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM channel_events"), 3);
}

// The fetch stage (model/attachment_fetch.h): an incoming msg's http(s)
// attachments each get a pending fetch in its transaction (a replay adds
// none); claims lease them; the last finish rewrites the msg's
// attachments and writes "msg.attachments"; a lapsed lease is claimed
// again, a second finish changes nothing.
TEST_P(StoreTest, AttachmentFetchesAreClaimedLeasedAndFinishedOnce) {
  Channel ch = AddChannel("EX");
  Msg m = Incoming(ch, "tel:+250788383383", "look");
  m.uuid = NewUUID();
  m.attachments = {"image/jpeg:https://provider.example/a.jpg", "geo:1.5,2.5", "https://provider.example/b"};
  Intake in;
  in.channel_uuid = ch.uuid;
  in.msgs = {m};
  std::vector<Event> events;
  auto written = store_->WriteIntakes({in}, &events);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_TRUE((*written)[0].status.ok()) << (*written)[0].status.ToString();
  const int64_t msg_id = (*written)[0].msgs[0].msg_id;
  ASSERT_EQ(events.size(), 1u);
  auto received = json::ParseObject(events[0].payload);
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(json::GetInt(*received, "media_pending").value_or(-1), 2);
  ASSERT_TRUE(store_->WriteIntakes({in}, nullptr).ok());  // a replay
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attachment_fetches"), 2);

  auto backlog = store_->GetFetchBacklog();
  ASSERT_TRUE(backlog.ok()) << backlog.status().ToString();
  EXPECT_EQ(backlog->pending, 2);
  EXPECT_EQ(backlog->due, 2);
  EXPECT_EQ(backlog->oldest_pending_on.value_or(0), clock_.Now());

  const Micros lease = 60 * kMicrosPerSecond;
  auto first = store_->ClaimFetches("host:1", 10, lease);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].msg_uuid, m.uuid);
  EXPECT_EQ((*first)[0].channel_type, "EX");
  EXPECT_EQ((*first)[0].attempts, 1);
  std::map<int, AttachmentFetch> by_position;
  for (const auto& f : *first) by_position[f.position] = f;
  ASSERT_EQ(by_position.count(0) + by_position.count(2), 2u);
  EXPECT_EQ(by_position[2].source, "https://provider.example/b");
  // Leased: nobody else gets them until the lease lapses.
  EXPECT_TRUE(store_->ClaimFetches("host:2", 10, lease)->empty());

  // The first is stored; the msg still waits for the second.
  FetchOutcome stored;
  stored.fetch_id = by_position[0].id;
  stored.state = FetchState::kStored;
  stored.sha256 = std::string(64, 'a');
  stored.content_type = "image/jpeg";
  stored.size = 1234;
  stored.url = "http://media.example/" + stored.sha256;
  auto done = store_->FinishFetch(stored);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(done->applied);
  EXPECT_FALSE(done->msg_done);
  EXPECT_FALSE(store_->FinishFetch(stored)->applied);  // twice: nothing more

  // The second fails once (retried later), its worker dies, and the
  // lapsed lease is claimed again.
  FetchOutcome retry;
  retry.fetch_id = by_position[2].id;
  retry.state = FetchState::kPending;
  retry.error = "provider answered 503";
  retry.retry_on = clock_.Now() + 30 * kMicrosPerSecond;
  // Every log of the attempt is kept on the msg, in order (a download
  // refused, then the one retried).
  for (const char* error : {"token refused", "provider answered 503"}) {
    ChannelLog log;
    log.channel_uuid = ch.uuid;
    log.description = "Media Fetch";
    log.error = error;
    retry.logs.push_back(log);
  }
  const std::string logs_of_msg = "SELECT COUNT(*) FROM channel_logs WHERE msg_id = " + std::to_string(msg_id);
  const int64_t logs_before = CountRows(logs_of_msg);
  ASSERT_TRUE(store_->FinishFetch(retry)->applied);
  EXPECT_EQ(CountRows(logs_of_msg), logs_before + 2);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM channel_logs AS a, channel_logs AS b WHERE a.msg_id = " +
                      std::to_string(msg_id) + " AND b.msg_id = a.msg_id AND a.error = 'token refused' AND "
                      "b.error = 'provider answered 503' AND a.id < b.id"),
            1);
  EXPECT_TRUE(store_->ClaimFetches("host:2", 10, lease)->empty());  // not due yet
  clock_.Advance(31 * kMicrosPerSecond);
  auto again = store_->ClaimFetches("host:2", 10, lease);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 2);
  EXPECT_EQ((*again)[0].error, "provider answered 503");
  clock_.Advance(61 * kMicrosPerSecond);
  auto after_crash = store_->ClaimFetches("host:3", 10, lease);
  ASSERT_EQ(after_crash->size(), 1u);
  EXPECT_EQ((*after_crash)[0].attempts, 3);

  FetchOutcome failed;
  failed.fetch_id = by_position[2].id;
  failed.state = FetchState::kFailed;
  failed.error = "provider answered 404";
  const int64_t seq = *store_->LastEventSeq();
  done = store_->FinishFetch(failed);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(done->applied);
  EXPECT_TRUE(done->msg_done);
  EXPECT_FALSE(store_->FinishFetch(stored)->applied);  // host:2 finishing late

  auto msg = store_->GetMsg(msg_id);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->attachments, (std::vector<std::string>{"image/jpeg:" + stored.url, "geo:1.5,2.5",
                                                          "https://provider.example/b"}));
  auto fetches = store_->ListFetches(msg_id);
  ASSERT_TRUE(fetches.ok());
  ASSERT_EQ(fetches->size(), 2u);
  EXPECT_EQ((*fetches)[0].state, FetchState::kStored);
  EXPECT_EQ((*fetches)[0].sha256, stored.sha256);
  EXPECT_EQ((*fetches)[0].size, 1234);
  EXPECT_EQ((*fetches)[1].state, FetchState::kFailed);
  EXPECT_EQ((*fetches)[1].error, "provider answered 404");

  auto later = store_->EventsAfter(seq, 10);
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].topic, "msg.attachments");
  auto payload = json::ParseObject((*later)[0].payload);
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(json::GetStringOrEmpty(*payload, "msg_uuid"), m.uuid);
  auto media = json::GetArray(*payload, "media");
  ASSERT_TRUE(media);
  ASSERT_EQ(media->size(), 2u);
  EXPECT_EQ(json::GetStringOrEmpty(media->getObject(0), "state"), "stored");
  EXPECT_EQ(json::GetStringOrEmpty(media->getObject(0), "url"), stored.url);
  EXPECT_EQ(json::GetStringOrEmpty(media->getObject(1), "state"), "failed");
  EXPECT_EQ(json::GetStringOrEmpty(media->getObject(1), "source"), "https://provider.example/b");
  EXPECT_EQ(json::GetInt(media->getObject(0), "size"), 1234);
  EXPECT_TRUE(media->getObject(1)->isNull("size"));
  EXPECT_EQ(json::GetStringOrEmpty(media->getObject(1), "error"), "provider answered 404");

  backlog = store_->GetFetchBacklog();
  EXPECT_EQ(backlog->pending, 0);
  EXPECT_EQ(backlog->failed, 1);
  EXPECT_FALSE(backlog->oldest_pending_on.has_value());

  auto file = store_->GetMedia(stored.sha256);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->content_type, "image/jpeg");
  EXPECT_EQ(file->size, 1234);
  EXPECT_TRUE(store_->GetMedia(std::string(64, 'b')).status().IsNotFound());
}

// Media records go by when a fetch last stored their bytes: a file stored
// again is not forgotten by a prune that listed it before.
TEST_P(StoreTest, MediaIsForgottenOnlyWhenNotStoredSince) {
  Channel ch = AddChannel("EX");
  auto store_file = [&](const std::string& sha) {
    Msg m = Incoming(ch, "tel:+250788383383", "");
    m.attachments = {"image/png:https://provider.example/" + sha};
    Intake in;
    in.channel_uuid = ch.uuid;
    in.msgs = {m};
    ASSERT_TRUE(store_->WriteIntakes({in}, nullptr).ok());
    auto claimed = store_->ClaimFetches("host:1", 1, kMicrosPerSecond);
    ASSERT_EQ(claimed->size(), 1u);
    FetchOutcome out;
    out.fetch_id = (*claimed)[0].id;
    out.sha256 = sha;
    out.content_type = "image/png";
    out.size = 10;
    out.url = "http://media.example/" + sha;
    ASSERT_TRUE(store_->FinishFetch(out)->msg_done);
  };
  const std::string old_sha(64, '1'), kept_sha(64, '2');
  store_file(old_sha);
  store_file(kept_sha);
  clock_.Advance(10 * kMicrosPerSecond);
  const Micros cutoff = clock_.Now();
  auto listed = store_->ListMediaUsedBefore(cutoff, 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  store_file(kept_sha);  // the same bytes again, after the listing
  EXPECT_TRUE(*store_->ForgetMedia(old_sha, cutoff));
  EXPECT_FALSE(*store_->ForgetMedia(kept_sha, cutoff));
  EXPECT_TRUE(store_->GetMedia(old_sha).status().IsNotFound());
  EXPECT_TRUE(store_->GetMedia(kept_sha).ok());
  EXPECT_EQ(store_->ListMediaUsedBefore(cutoff, 10)->size(), 0u);
}

// A msg's template and locale (core/msg_template.h) are kept with it and
// come back from every read and from the claim.
TEST_P(StoreTest, AMsgKeepsItsTemplateAndLocale) {
  Channel ch = AddChannel("EX");
  Msg msg = Outgoing(ch, "tel:+250788383383", "");
  msg.locale = "rw";
  msg.templating = MsgTemplate{.name = "welcome", .language = "rw", .external_id = "HX1",
                               .components = {{.type = "body", .params = {{"text", "Jane", "name"}}}}};
  Msg plain = Outgoing(ch, "tel:+250788383384", "no template");
  auto queued = store_->QueueOutgoing({msg, plain});
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  auto read = store_->GetMsg((*queued)[0].id);
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->templating.has_value());
  EXPECT_EQ(*read->templating, *msg.templating);
  EXPECT_EQ(read->locale, "rw");
  auto other = store_->GetMsg((*queued)[1].id);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->templating.has_value());
  EXPECT_EQ(other->locale, "");
  auto claimed = Claim(2);
  ASSERT_EQ(claimed.size(), 2u);
  for (const auto& m : claimed) {
    EXPECT_EQ(m.templating.has_value(), m.id == (*queued)[0].id);
    if (m.templating) {
      EXPECT_EQ(m.templating->components[0].params[0].value, "Jane");
    }
  }
}

TEST_P(StoreTest, WriteIncomingRejectsUnknownChannelAndBadUrn) {
  Channel ch = AddChannel();
  Msg m = Incoming(ch, "tel:+250788383383", "hi");
  m.channel_uuid = "6a0ee8a4-04c2-4b9b-8a5c-0b5d1d0b7e3f";
  auto r = WriteIncoming(*store_, m, {});
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().message(), "channel not found");

  Msg by_id = Incoming(ch, "tel:+250788383383", "by id");
  by_id.channel_uuid.clear();
  by_id.channel_id = ch.id;
  ASSERT_TRUE(WriteIncoming(*store_, by_id, {}).ok());

  EXPECT_TRUE(WriteIncoming(*store_, Incoming(ch, "nourn", "x"), {}).status().IsInvalidArgument());
  // A msg's log is on the msg's channel and tied to the msg, whatever
  // channel or msg the log itself names: a stale name never costs the msg.
  ChannelLog stale;
  stale.channel_uuid = "6a0ee8a4-04c2-4b9b-8a5c-0b5d1d0b7e3f";
  stale.msg_id = 987654321;
  auto with_log = WriteIncoming(*store_, Incoming(ch, "tel:+1", "x", "e"), {stale});
  ASSERT_TRUE(with_log.ok()) << with_log.status().ToString();
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 2);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM channel_logs WHERE channel_id = " + std::to_string(ch.id) +
                      " AND msg_id = " + std::to_string(with_log->msg_id)),
            1);
}

// --- Outgoing ------------------------------------------------------------------

TEST_P(StoreTest, QueueOutgoingFillsMsgsAndIsAllOrNothing) {
  Channel ch = AddChannel();
  Channel removed = AddChannel("KN");
  ASSERT_TRUE(store_->RemoveChannel(removed.uuid).ok());

  std::vector<Msg> batch = {Outgoing(ch, "tel:+250788000001", "one"),
                            Outgoing(removed, "tel:+250788000002", "two")};
  auto failed = store_->QueueOutgoing(batch);
  EXPECT_TRUE(failed.status().IsNotFound());
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM contacts"), 0);
  EXPECT_EQ(*store_->LastEventSeq(), 0);

  Msg later = Outgoing(ch, "tel:+250788000003", "later", Priority::kBulk);
  later.next_attempt_on = kStart + 60 * kMicrosPerSecond;
  later.attachments = {"image/png:https://x/p.png"};
  auto queued = store_->QueueOutgoing({Outgoing(ch, "tel:+250788000001", "one"), later});
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  ASSERT_EQ(queued->size(), 2u);
  const Msg& q = (*queued)[0];
  EXPECT_GT(q.id, 0);
  EXPECT_EQ(q.uuid.size(), 36u);
  EXPECT_EQ(q.status, MsgStatus::kQueued);
  EXPECT_EQ(q.direction, Direction::kOut);
  EXPECT_EQ(q.channel_id, ch.id);
  EXPECT_EQ(q.channel_type, "EX");
  EXPECT_EQ(q.next_attempt_on, kStart);
  EXPECT_EQ((*queued)[1].next_attempt_on, kStart + 60 * kMicrosPerSecond);

  auto stored = store_->GetMsgByUUID((*queued)[1].uuid);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->id, (*queued)[1].id);
  EXPECT_EQ(stored->priority, Priority::kBulk);
  EXPECT_EQ(stored->attachments, later.attachments);
  EXPECT_EQ(stored->status, MsgStatus::kQueued);

  auto events = AllEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].topic, "msg.queued");
  auto payload = ParseObject(events[1].payload);
  EXPECT_EQ(payload->getValue<std::string>("msg_uuid"), stored->uuid);
  EXPECT_EQ(payload->getValue<std::string>("direction"), "out");
  EXPECT_EQ(payload->getValue<std::string>("priority"), "bulk");
  EXPECT_TRUE(payload->isNull("external_id"));  // as in `msgs list --json`
  EXPECT_FALSE(payload->has("id"));
  EXPECT_TRUE(GetContactByURN(*store_, "tel:+250788000003").ok());

  // A uuid that exists already is a conflict, and nothing of the batch stays.
  Msg same = Outgoing(ch, "tel:+250788000009", "dupe");
  same.uuid = q.uuid;
  EXPECT_EQ(store_->QueueOutgoing({Outgoing(ch, "tel:+250788000008", "ok"), same}).status().code(),
            Status::Code::kConflict);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 2);
}

// --- The claim -------------------------------------------------------------------

TEST_P(StoreTest, ClaimIsFairAcrossChannels) {
  Channel a = AddChannel("EX");
  Channel b = AddChannel("KN");
  Channel c = AddChannel("TG");
  Queue(a, 1000, Priority::kBulk);
  auto b_bulk = Queue(b, 1, Priority::kBulk);
  auto b_high = Queue(b, 1, Priority::kHigh);
  auto c_ids = Queue(c, 1, Priority::kBulk);

  auto claimed = Claim(3);
  ASSERT_EQ(claimed.size(), 3u);
  std::set<std::string> channels;
  for (const auto& m : claimed) channels.insert(m.channel_uuid);
  EXPECT_EQ(channels, (std::set<std::string>{a.uuid, b.uuid, c.uuid}));
  for (const auto& m : claimed) {
    if (m.channel_uuid == b.uuid) {
      EXPECT_EQ(m.id, b_high[0]);  // high before bulk
    }
    if (m.channel_uuid == c.uuid) {
      EXPECT_EQ(m.id, c_ids[0]);
    }
    EXPECT_EQ(m.status, MsgStatus::kQueued);
    EXPECT_FALSE(m.channel_type.empty());
  }
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE finished_on IS NULL"), 3);

  // Next: b's bulk msg and more of a, c has none left.
  auto next = Claim(3);
  ASSERT_EQ(next.size(), 3u);
  int from_a = 0, from_b = 0;
  for (const auto& m : next) {
    from_a += m.channel_uuid == a.uuid;
    if (m.channel_uuid == b.uuid) {
      ++from_b;
      EXPECT_EQ(m.id, b_bulk[0]);
    }
  }
  EXPECT_EQ(from_a, 2);
  EXPECT_EQ(from_b, 1);
}

// The claim reads only a share of each queue, then more of the queues
// that had more: the msgs claimed are still those of a round robin over
// whole queues. Here 3 channels, limit 10 (a share of 4): one queue holds
// 1, one 2, one 20; the third gives the rest, oldest first.
TEST_P(StoreTest, ClaimTakesTheRestFromTheQueuesThatHaveMore) {
  Channel a = AddChannel("EX");
  Channel b = AddChannel("KN");
  Channel c = AddChannel("TG");
  auto a_ids = Queue(a, 1);
  auto b_ids = Queue(b, 2);
  auto c_ids = Queue(c, 20);
  auto claimed = Claim(10);
  ASSERT_EQ(claimed.size(), 10u);
  std::map<std::string, std::vector<int64_t>> by_channel;
  for (const auto& m : claimed) by_channel[m.channel_uuid].push_back(m.id);
  EXPECT_EQ(by_channel[a.uuid], a_ids);
  EXPECT_EQ(by_channel[b.uuid], b_ids);
  EXPECT_EQ(by_channel[c.uuid], std::vector<int64_t>(c_ids.begin(), c_ids.begin() + 7));
  // The round robin's order: one from each, then one from each that has more.
  ASSERT_GE(claimed.size(), 5u);
  std::set<std::string> first_round = {claimed[0].channel_uuid, claimed[1].channel_uuid, claimed[2].channel_uuid};
  EXPECT_EQ(first_round.size(), 3u);
  EXPECT_EQ(claimed[3].channel_uuid == c.uuid ? claimed[4].channel_uuid : claimed[3].channel_uuid, b.uuid);
}

TEST_P(StoreTest, ClaimRotatesChannelsAcrossCalls) {
  std::vector<Channel> channels = {AddChannel("EX"), AddChannel("KN"), AddChannel("TG")};
  for (const auto& ch : channels) Queue(ch, 3);
  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) {
    auto claimed = Claim(1);
    ASSERT_EQ(claimed.size(), 1u);
    order.push_back(claimed[0].channel_uuid);
  }
  // With a limit of one, each channel gets a turn in rotation.
  EXPECT_EQ(order, (std::vector<std::string>{channels[0].uuid, channels[1].uuid,
                                             channels[2].uuid, channels[0].uuid,
                                             channels[1].uuid, channels[2].uuid}));
}

TEST_P(StoreTest, ClaimIsHighFirstThenFifo) {
  Channel ch = AddChannel();
  auto bulk = Queue(ch, 3, Priority::kBulk);
  auto high = Queue(ch, 2, Priority::kHigh);
  auto claimed = Claim(5);
  ASSERT_EQ(claimed.size(), 5u);
  std::vector<int64_t> ids;
  for (const auto& m : claimed) ids.push_back(m.id);
  EXPECT_EQ(ids, (std::vector<int64_t>{high[0], high[1], bulk[0], bulk[1], bulk[2]}));
}

TEST_P(StoreTest, ClaimTellsWhichContactsHaveOptedOut) {
  Channel ch = AddChannel();
  ASSERT_TRUE(store_->QueueOutgoing({Outgoing(ch, "tel:+250788000001", "to a stopped contact"),
                                     Outgoing(ch, "tel:+250788000002", "to a contact"),
                                     Outgoing(ch, "tel:+250788000003", "stopped, then not")})
                  .ok());
  ASSERT_TRUE(store_->SetContactStopped("tel:+250788000001", true, "").ok());
  ASSERT_TRUE(store_->SetContactStopped("tel:+250788000003", true, "").ok());
  ASSERT_TRUE(store_->SetContactStopped("tel:+250788000003", false, "").ok());
  std::map<std::string, bool> stopped;
  for (const auto& m : Claim(10)) stopped[m.urn] = m.contact_stopped;
  EXPECT_EQ(stopped, (std::map<std::string, bool>{{"tel:+250788000001", true},
                                                  {"tel:+250788000002", false},
                                                  {"tel:+250788000003", false}}));
}

// URN auth (FCM tokens): set with the contact it creates, replaced by a
// newer one only, and handed to the sender with each claimed msg.
TEST_P(StoreTest, UrnAuthIsSetReplacedByNewerOnlyAndClaimedWithTheMsg) {
  Channel ch = AddChannel("FCM");
  Channel other = AddChannel("EX");
  auto write = [&](const UrnAuthUpdate& update) {
    Intake in;
    in.channel_uuid = ch.uuid;
    in.urn_auths.push_back(update);
    auto written = store_->WriteIntakes({in}, nullptr);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    EXPECT_TRUE((*written)[0].status.ok()) << (*written)[0].status.ToString();
    return (*written)[0].urn_auths.at(0);
  };
  // What the sender gets: the auth for the types that send to it only.
  auto claim_auths = [&](std::set<std::string> types = {"FCM"}) {
    ClaimRequest req;
    req.worker = "host:1";
    req.now = clock_.Now();
    req.limit = 10;
    req.urn_auth_types = std::move(types);
    std::map<std::string, std::string> auths;
    auto claimed = store_->ClaimQueued(req);
    EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
    for (const auto& m : *claimed) {
      auths[m.channel_type + " " + m.urn] = m.urn_auth;
      WriteStatus(m.channel_type == ch.type ? ch : other, m.id, MsgStatus::kWired);
    }
    return auths;
  };

  const int64_t seq_before = *store_->LastEventSeq();
  UrnAuthResult first = write({"fcm:12345", "token-1", "Jane", kStart});
  EXPECT_TRUE(first.applied);
  auto contact = GetContactByURN(*store_, "fcm:12345");
  ASSERT_TRUE(contact.ok());
  EXPECT_EQ(first.contact_uuid, contact->uuid);
  EXPECT_EQ(first.contact_id, contact->id);
  EXPECT_EQ(contact->name, "Jane");
  EXPECT_EQ(*store_->LastEventSeq(), seq_before);  // no event carries an auth

  ASSERT_TRUE(store_->QueueOutgoing({Outgoing(ch, "fcm:12345", "to the device"),
                                     Outgoing(ch, "fcm:999", "to a URN without a token"),
                                     Outgoing(other, "fcm:12345", "a type that does not send to it")})
                  .ok());
  EXPECT_EQ(claim_auths(), (std::map<std::string, std::string>{
                               {"FCM fcm:12345", "token-1"}, {"FCM fcm:999", ""}, {"EX fcm:12345", ""}}));

  // A newer token replaces it, the contact stays the same one and is renamed.
  UrnAuthResult newer = write({"fcm:12345", "token-2", "Janet", kStart + 10 * kMicrosPerSecond});
  EXPECT_TRUE(newer.applied);
  EXPECT_EQ(newer.contact_uuid, first.contact_uuid);
  EXPECT_EQ(GetContactByURN(*store_, "fcm:12345")->name, "Janet");
  // An older one (a spool file replayed late) changes nothing.
  UrnAuthResult older = write({"fcm:12345", "token-1", "Old Name", kStart + 5 * kMicrosPerSecond});
  EXPECT_FALSE(older.applied);
  EXPECT_EQ(older.contact_uuid, first.contact_uuid);
  EXPECT_EQ(GetContactByURN(*store_, "fcm:12345")->name, "Janet");
  // The same one again (a replay of what committed) is applied again, harmlessly.
  EXPECT_TRUE(write({"fcm:12345", "token-2", "", kStart + 10 * kMicrosPerSecond}).applied);

  ASSERT_TRUE(store_->QueueOutgoing({Outgoing(ch, "fcm:12345", "again")}).ok());
  EXPECT_EQ(claim_auths(), (std::map<std::string, std::string>{{"FCM fcm:12345", "token-2"}}));
  ASSERT_TRUE(store_->QueueOutgoing({Outgoing(ch, "fcm:12345", "claimed for no type")}).ok());
  EXPECT_EQ(claim_auths({}), (std::map<std::string, std::string>{{"FCM fcm:12345", ""}}));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM contacts"), 2);
}

// A msg and its sender's token from one webhook: one contact, and a bad
// update sinks its whole intake, msg included.
TEST_P(StoreTest, UrnAuthAndMsgOfOneIntakeShareTheContact) {
  Channel ch = AddChannel("FCM");
  Intake in;
  in.channel_uuid = ch.uuid;
  Msg m = Incoming(ch, "fcm:555", "hello");
  m.uuid = NewUUID();
  m.contact_name = "Ann";
  in.msgs.push_back(m);
  in.urn_auths.push_back({"fcm:555", "token-555", "Ann", kStart});
  auto written = store_->WriteIntakes({in}, nullptr);
  ASSERT_TRUE(written.ok());
  ASSERT_TRUE((*written)[0].status.ok()) << (*written)[0].status.ToString();
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM contacts"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs m JOIN contact_urns u ON u.id = m.contact_urn_id "
                      "WHERE u.auth = 'token-555'"),
            1);

  Intake bad;
  bad.channel_uuid = ch.uuid;
  Msg other = Incoming(ch, "fcm:556", "lost with its intake");
  other.uuid = NewUUID();
  bad.msgs.push_back(other);
  bad.urn_auths.push_back({"no-scheme", "t", "", kStart});
  Intake empty_auth = bad;
  empty_auth.msgs[0].uuid = NewUUID();
  empty_auth.urn_auths[0] = {"fcm:556", "", "", kStart};
  written = store_->WriteIntakes({bad, empty_auth}, nullptr);
  ASSERT_TRUE(written.ok());
  EXPECT_NE((*written)[0].status.message().find("invalid urn"), std::string::npos) << (*written)[0].status.ToString();
  EXPECT_NE((*written)[1].status.message().find("empty auth"), std::string::npos) << (*written)[1].status.ToString();
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 1);
}

// A batch is first written with deferred statements and no savepoints
// (sql_intake.cpp); an intake whose fault the server reports only later
// sends the batch round again under savepoints, and then sinks that
// intake alone: the others are stored once, with one event each. The
// fault on PostgreSQL: a msg's text that is not UTF-8, refused by the
// server when the deferred insert runs (courier's intake writer repairs
// such text before the store, intake_text.h; the store itself does not).
// SQLite stores any bytes and runs each statement at once: there an
// invalid URN, refused before anything is written, stands in.
TEST_P(StoreTest, AFaultSeenLateInABatchSinksOnlyItsIntake) {
  Channel ch = AddChannel("EX");
  auto intake = [&](const std::string& text) {
    Intake in;
    in.channel_uuid = ch.uuid;
    Msg m = Incoming(ch, "tel:+250788000001", text);
    m.uuid = NewUUID();
    in.msgs.push_back(m);
    return in;
  };
  Intake bad = intake("with a bad log");
  if (GetParam() == Engine::kPostgreSQL) {
    bad.msgs[0].text += "\xff\xfe";
  } else {
    bad.msgs[0].urn = "no-scheme";
  }
  const Intake first = intake("first");
  const int64_t last_seq = *store_->LastEventSeq();
  const int64_t events_before = CountRows("SELECT COUNT(*) FROM events");
  std::vector<Event> events;
  auto written = store_->WriteIntakes({first, bad, intake("last"), first}, &events);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->size(), 4u);
  EXPECT_TRUE((*written)[0].status.ok()) << (*written)[0].status.ToString();
  EXPECT_EQ((*written)[1].status.code(), Status::Code::kInvalidArgument) << (*written)[1].status.ToString();
  EXPECT_TRUE((*written)[2].status.ok()) << (*written)[2].status.ToString();
  // The same msg twice in one batch: stored once, the second a duplicate.
  ASSERT_EQ((*written)[3].msgs.size(), 1u);
  EXPECT_TRUE((*written)[3].msgs[0].duplicate);
  EXPECT_EQ((*written)[3].msgs[0].msg_id, (*written)[0].msgs[0].msg_id);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 2);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs WHERE text LIKE 'with a bad log%'"), 0);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].seq, last_seq + 1);
  EXPECT_EQ(events[1].seq, last_seq + 2);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM events"), events_before + 2);
}

// A batch's URNs and uuids are looked up together before its intakes
// (sql_intake.cpp): what the batch itself adds must count as it goes.
TEST_P(StoreTest, ABatchSeesTheContactsAndMsgsItAdds) {
  Channel a = AddChannel("EX");
  Channel b = AddChannel("EX");
  auto intake = [&](const Channel& ch, const std::string& urn, const std::string& text, const std::string& uuid) {
    Intake in;
    in.channel_uuid = ch.uuid;
    Msg m = Incoming(ch, urn, text);
    m.uuid = uuid;
    in.msgs.push_back(m);
    return in;
  };
  ASSERT_TRUE(store_->WriteIntakes({intake(a, "tel:+250788000009", "known", NewUUID())}, nullptr).ok());
  const std::string stored_uuid = NewUUID();
  ASSERT_TRUE(store_->WriteIntakes({intake(a, "tel:+250788000009", "stored", stored_uuid)}, nullptr).ok());

  auto written = store_->WriteIntakes({intake(a, "tel:+250788000010", "new 1", NewUUID()),
                                       intake(a, "tel:+250788000010", "new 2", ""),
                                       intake(b, "tel:+250788000009", "moved", NewUUID()),
                                       intake(b, "tel:+250788000009", "replayed", stored_uuid)},
                                      nullptr);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  for (const auto& out : *written) EXPECT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_TRUE((*written)[3].msgs[0].duplicate);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM contacts"), 2);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 5);
  EXPECT_EQ(CountRows("SELECT COUNT(DISTINCT contact_id) FROM msgs WHERE text IN ('new 1', 'new 2')"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM contact_urns WHERE urn = 'tel:+250788000009' AND channel_id = " +
                      std::to_string(b.id)),
            1);
  // Ids taken in a batch stay unique and the next insert follows them.
  ASSERT_TRUE(store_->WriteIntakes({intake(a, "tel:+250788000011", "after", NewUUID())}, nullptr).ok());
  EXPECT_EQ(CountRows("SELECT COUNT(DISTINCT id) FROM msgs"), 6);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs WHERE text = 'after' AND id = (SELECT MAX(id) FROM msgs)"), 1);
}

TEST_P(StoreTest, ClaimRespectsMaxWorkersWithInFlightMsgs) {
  Channel ch = AddChannel("EX", /*max_workers=*/2);
  auto ids = Queue(ch, 5);
  auto first = Claim(10);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_TRUE(Claim(10).empty());  // two in flight = max_workers

  // One finishes: one slot opens.
  EXPECT_EQ(WriteStatus(ch, first[0].id, MsgStatus::kWired).outcome, StatusOutcome::kUpdated);
  auto second = Claim(10);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].id, ids[2]);

  // Channels with max_workers 0 use the request's default.
  Channel dflt = AddChannel("KN", 0);
  Queue(dflt, 5);
  auto claimed = Claim(10, "host:1", {}, /*default_max_workers=*/3);
  int from_default = 0;
  for (const auto& m : claimed) from_default += m.channel_uuid == dflt.uuid;
  EXPECT_EQ(from_default, 3);
}

TEST_P(StoreTest, WriteIntakesAndClaimIsOneCommitThatSeesItsStatuses) {
  Channel ch = AddChannel("EX", /*max_workers=*/1);
  auto ids = Queue(ch, 3);
  auto first = Claim(10);
  ASSERT_EQ(first.size(), 1u);
  // The claimed msg comes back whole (no second read of the row).
  EXPECT_EQ(first[0].channel_uuid, ch.uuid);
  EXPECT_EQ(first[0].channel_type, "EX");
  EXPECT_EQ(first[0].text, "msg 0");
  EXPECT_EQ(first[0].status, MsgStatus::kQueued);
  const int64_t seq_before = *store_->LastEventSeq();

  // The status of the msg in flight and the next claim, together: the
  // claim sees the slot the status freed.
  Intake statuses;
  statuses.channel_uuid = ch.uuid;
  StatusUpdate u;
  u.channel_uuid = ch.uuid;
  u.msg_id = first[0].id;
  u.status = MsgStatus::kWired;
  statuses.statuses.push_back(u);
  ClaimRequest req;
  req.worker = "host:1";
  req.now = clock_.Now();
  req.limit = 10;
  std::vector<Msg> claimed;
  std::vector<Event> events;
  auto written = store_->WriteIntakesAndClaim({statuses}, &req, &claimed, &events);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->size(), 1u);
  EXPECT_TRUE((*written)[0].status.ok());
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, ids[1]);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].seq, seq_before + 1);
  EXPECT_EQ(store_->GetMsg(ids[0])->status, MsgStatus::kWired);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE finished_on IS NULL"), 1);

  // Without a claim it is WriteIntakes.
  claimed.clear();
  auto plain = store_->WriteIntakesAndClaim({}, nullptr, &claimed, nullptr);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(claimed.empty());
}

TEST_P(StoreTest, ClaimRespectsChannelCaps) {
  Channel a = AddChannel("EX");
  Channel b = AddChannel("KN");
  Queue(a, 10);
  Queue(b, 10);
  auto claimed = Claim(10, "host:1", {{a.id, 1}, {b.id, 0}});
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].channel_uuid, a.uuid);
  auto rest = Claim(10, "host:1", {{a.id, 2}});
  int from_a = 0, from_b = 0;
  for (const auto& m : rest) {
    from_a += m.channel_uuid == a.uuid;
    from_b += m.channel_uuid == b.uuid;
  }
  EXPECT_EQ(from_a, 2);
  EXPECT_EQ(from_b, 8);
}

// A channel's tps is the channel's, not each sender's: senders on several
// connections (hosts) claiming in the same second share it.
TEST_P(StoreTest, ClaimKeepsAChannelsTpsAcrossSenders) {
  Channel c;
  c.type = "EX";
  c.address = "+250788000009";
  c.tps = 5;
  c.max_workers = 100;
  auto limited = store_->AddChannel(c);
  ASSERT_TRUE(limited.ok()) << limited.status().ToString();
  Channel free = AddChannel("KN");
  Queue(*limited, 30);
  Queue(free, 30);
  auto other = OpenAnother();
  ASSERT_NE(other, nullptr);
  ClaimRequest req;
  req.now = clock_.Now();
  req.limit = 3;
  int from_limited = 0, from_free = 0;
  for (int round = 0; round < 4; ++round) {
    for (Store* store : {static_cast<Store*>(store_.get()), other.get()}) {
      req.worker = store == store_.get() ? "hosta:1" : "hostb:2";
      auto claimed = store->ClaimQueued(req);
      ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
      for (const auto& m : *claimed) (m.channel_id == limited->id ? from_limited : from_free)++;
    }
  }
  EXPECT_EQ(from_limited, 5);
  EXPECT_EQ(from_free, 24 - 5);
  // The next second has its own budget.
  clock_.Advance(kMicrosPerSecond);
  req.now = clock_.Now();
  req.limit = 20;
  auto next = other->ClaimQueued(req);
  ASSERT_TRUE(next.ok());
  int next_limited = 0;
  for (const auto& m : *next) next_limited += m.channel_id == limited->id;
  EXPECT_EQ(next_limited, 5);
}

TEST_P(StoreTest, ClaimWaitsUntilDueAndNeverClaimsTwice) {
  Channel ch = AddChannel();
  Msg later = Outgoing(ch, "tel:+250788000001", "later");
  later.next_attempt_on = kStart + 10 * kMicrosPerSecond;
  ASSERT_TRUE(store_->QueueOutgoing({later}).ok());
  auto now_ids = Queue(ch, 2);

  auto claimed = Claim(10);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].id, now_ids[0]);
  EXPECT_TRUE(Claim(10).empty());  // claimed ones stay claimed; later is not due

  clock_.Advance(10 * kMicrosPerSecond);
  auto due = Claim(10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].text, "later");
  EXPECT_TRUE(Claim(10).empty());

  ClaimRequest no_worker;
  no_worker.limit = 1;
  EXPECT_TRUE(store_->ClaimQueued(no_worker).status().IsInvalidArgument());
}

// A claim whose answer was lost (its COMMIT or the sync after it failed)
// may have committed: the worker's next claim names when its claims went
// in doubt and gets what they took again, after what it picks now and
// within its limit, with their attempts still open. Only that worker's,
// only from then on, only msgs still claimed.
TEST_P(StoreTest, ClaimsInDoubtAreTakenAgainByTheirWorker) {
  Channel ch = AddChannel();
  auto ids = Queue(ch, 8);
  ASSERT_EQ(Claim(1, "host:1").size(), 1u);  // answered: not in doubt
  clock_.Advance(1);
  const Micros doubt_since = clock_.Now();
  auto lost = Claim(2, "host:1");  // its answer never arrives
  ASSERT_EQ(lost.size(), 2u);
  clock_.Advance(1);
  auto lost_again = Claim(1, "host:1");
  ASSERT_EQ(lost_again.size(), 1u);
  clock_.Advance(1);
  ASSERT_EQ(Claim(1, "host:2").size(), 1u);  // another worker's
  // An operator fails one of the lost ones meanwhile: it stays failed.
  ASSERT_EQ(store_->FailMsgs({lost[1].id})->size(), 1u);

  clock_.Advance(1);
  ClaimRequest req;
  req.worker = "host:1";
  req.now = clock_.Now();
  req.limit = 3;
  req.in_doubt_since = doubt_since;
  auto claimed = store_->ClaimQueued(req);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 3u);
  EXPECT_EQ((*claimed)[0].id, ids[5]);  // one picked now, then the two in doubt
  EXPECT_EQ((*claimed)[1].id, lost[0].id);
  EXPECT_EQ((*claimed)[2].id, lost_again[0].id);
  EXPECT_EQ((*claimed)[1].channel_uuid, ch.uuid);
  EXPECT_EQ((*claimed)[1].text, lost[0].text);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE finished_on IS NULL"), 5);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts"), 6);

  // Taken again with this claim's time: in doubt from it, they come back;
  // in doubt from a later time, they do not.
  clock_.Advance(1);
  req.now = clock_.Now();
  req.in_doubt_since = clock_.Now();
  req.limit = 10;
  auto later = store_->ClaimQueued(req);
  ASSERT_TRUE(later.ok());
  for (const auto& m : *later) EXPECT_NE(m.id, lost[0].id);
  ASSERT_EQ(later->size(), 2u);  // the last two queued
  // More in doubt than the limit: all of them (every msg host:1 still
  // holds: ids 0, 1, 3, 5, 6, 7), nothing new.
  req.in_doubt_since = kStart;
  clock_.Advance(1);
  req.now = clock_.Now();
  req.limit = 1;
  auto again = store_->ClaimQueued(req);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 6u);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs WHERE claimed_by = 'host:1' AND claimed_on = " +
                      std::to_string(req.now)),
            static_cast<int64_t>(again->size()));
}

// A provider's msg id is stored once per channel, whether its copy is
// already stored, comes twice in one batch, or comes on another channel
// (looked up together on PostgreSQL: SqlStore::Impl::LookUpTogether).
TEST_P(StoreTest, ABatchFindsProviderIdsStoredBeforeAndWithinIt) {
  Channel ch = AddChannel("EX");
  Channel other = AddChannel("EX");
  auto one = [&](const Channel& on, const std::string& ext, const std::string& text) {
    Intake in;
    in.channel_uuid = on.uuid;
    in.msgs.push_back(Incoming(on, "tel:+250788000001", text, ext));
    return in;
  };
  auto first = store_->WriteIntakes({one(ch, "p-1", "stored before")}, nullptr);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const int64_t stored_id = (*first)[0].msgs.at(0).msg_id;

  std::vector<std::string> lines;
  Log::SetSinkForTest([&lines](const std::string& line) { lines.push_back(line); });
  auto written = store_->WriteIntakes(
      {one(ch, "p-1", "again"), one(ch, "p-2", "new"), one(ch, "p-2", "new, twice"), one(other, "p-2", "elsewhere"),
       one(ch, "", "no provider id"), one(ch, "", "no provider id either")},
      nullptr);
  Log::SetSinkForTest(nullptr);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  for (const auto& line : lines) EXPECT_EQ(line.find("fast way"), std::string::npos) << line;
  ASSERT_EQ(written->size(), 6u);
  auto result = [&](size_t i) { return (*written)[i].msgs.at(0); };
  EXPECT_TRUE(result(0).duplicate);
  EXPECT_EQ(result(0).msg_id, stored_id);
  EXPECT_FALSE(result(1).duplicate);
  EXPECT_TRUE(result(2).duplicate);
  EXPECT_EQ(result(2).msg_id, result(1).msg_id);
  EXPECT_EQ(result(2).msg_uuid, result(1).msg_uuid);
  EXPECT_FALSE(result(3).duplicate);
  EXPECT_NE(result(3).msg_id, result(1).msg_id);
  EXPECT_FALSE(result(4).duplicate);
  EXPECT_FALSE(result(5).duplicate);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 5);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs WHERE external_id = 'p-2'"), 2);
}

// A batch of statuses, as courier-send's writer commits them: on
// PostgreSQL the ones by msg id that move their msg are one statement
// (SqlStore::Impl::ApplyStatusesTogether), the rest one by one; SQLite
// writes each by itself. Both engines give the same outcomes, rows,
// closed attempts and events, in the batch's order.
TEST_P(StoreTest, ABatchOfStatusesMovesEachMsgOnceAndInOrder) {
  Channel ch = AddChannel();
  Channel other = AddChannel();
  auto ids = Queue(ch, 6);
  ASSERT_EQ(Claim(6).size(), 6u);
  ASSERT_EQ(WriteStatus(ch, ids[5], MsgStatus::kWired).outcome, StatusOutcome::kUpdated);
  const int64_t last_seq = *store_->LastEventSeq();
  clock_.Advance(1000);

  auto status = [&](const Channel& on, int64_t id, MsgStatus to) {
    StatusUpdate u;
    u.channel_uuid = on.uuid;
    u.msg_id = id;
    u.status = to;
    return u;
  };
  std::vector<Intake> intakes(6);
  for (auto& in : intakes) in.channel_uuid = ch.uuid;
  StatusUpdate wired = status(ch, ids[0], MsgStatus::kWired);
  wired.new_external_id = "ext-0";
  ChannelLog log;
  log.channel_uuid = ch.uuid;
  log.description = "sent";
  log.request = "POST /send {\"text\": \"a, \\\"quoted\\\" {NULL}\"}";
  wired.logs.push_back(log);
  intakes[0].statuses.push_back(wired);
  StatusUpdate errored = status(ch, ids[1], MsgStatus::kErrored);
  errored.error_reason = "provider said no";
  errored.next_attempt_on = clock_.Now() + 60'000'000;
  errored.count_error = true;
  intakes[1].statuses.push_back(errored);
  StatusUpdate failed = status(ch, ids[2], MsgStatus::kFailed);
  failed.error_reason = "bad number";
  intakes[2].statuses.push_back(failed);
  // Two statuses of one msg in the batch: applied in order.
  intakes[3].statuses.push_back(status(ch, ids[3], MsgStatus::kWired));
  intakes[3].statuses.push_back(status(ch, ids[3], MsgStatus::kDelivered));
  // A move not allowed (W back to... W again: unchanged), a msg of
  // another channel, no such msg.
  intakes[4].statuses.push_back(status(ch, ids[5], MsgStatus::kWired));
  intakes[4].statuses.push_back(status(other, ids[4], MsgStatus::kWired));
  intakes[5].statuses.push_back(status(ch, 987654321, MsgStatus::kWired));
  std::vector<Event> events;
  std::vector<std::string> lines;
  Log::SetSinkForTest([&lines](const std::string& line) { lines.push_back(line); });
  auto written = store_->WriteIntakes(intakes, &events);
  Log::SetSinkForTest(nullptr);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  // Written the fast way: the careful way would give the same results.
  for (const auto& line : lines) EXPECT_EQ(line.find("fast way"), std::string::npos) << line;
  ASSERT_EQ(written->size(), 6u);
  auto outcome = [&](size_t intake, size_t i) { return (*written)[intake].statuses.at(i).outcome; };
  EXPECT_EQ(outcome(0, 0), StatusOutcome::kUpdated);
  EXPECT_EQ(outcome(1, 0), StatusOutcome::kUpdated);
  EXPECT_EQ(outcome(2, 0), StatusOutcome::kUpdated);
  EXPECT_EQ(outcome(3, 0), StatusOutcome::kUpdated);
  EXPECT_EQ(outcome(3, 1), StatusOutcome::kUpdated);
  EXPECT_EQ(outcome(4, 0), StatusOutcome::kUnchanged);
  EXPECT_EQ(outcome(4, 1), StatusOutcome::kNotFound);
  EXPECT_EQ(outcome(5, 0), StatusOutcome::kNotFound);
  EXPECT_EQ((*written)[0].statuses[0].msg_id, ids[0]);

  auto msg = [&](int64_t id) {
    auto m = store_->GetMsg(id);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : Msg{};
  };
  const Micros now = clock_.Now();
  const Msg m0 = msg(ids[0]);
  EXPECT_EQ(m0.status, MsgStatus::kWired);
  EXPECT_EQ(m0.external_id, "ext-0");
  EXPECT_EQ(m0.sent_on, now);
  EXPECT_EQ(m0.modified_on, now);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs WHERE claimed_by IS NOT NULL"), 1);  // ids[4] only
  const Msg m1 = msg(ids[1]);
  EXPECT_EQ(m1.status, MsgStatus::kErrored);
  EXPECT_EQ(m1.error_reason, "provider said no");
  EXPECT_EQ(m1.next_attempt_on, now + 60'000'000);
  EXPECT_EQ(m1.error_count, 1);
  EXPECT_FALSE(m1.sent_on.has_value());
  const Msg m2 = msg(ids[2]);
  EXPECT_EQ(m2.status, MsgStatus::kFailed);
  EXPECT_EQ(m2.error_reason, "bad number");
  EXPECT_EQ(m2.error_count, 0);
  EXPECT_EQ(msg(ids[3]).status, MsgStatus::kDelivered);
  EXPECT_EQ(msg(ids[4]).status, MsgStatus::kQueued);  // the other channel's status found nothing
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE finished_on IS NULL"), 1);  // ids[4]'s
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE msg_id = " + std::to_string(ids[1]) +
                      " AND outcome = 'E' AND finished_on = " + std::to_string(now)),
            1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE msg_id = " + std::to_string(ids[3]) + " AND outcome = 'W'"),
            1);
  auto logs = store_->ListChannelLogs(std::nullopt, ch.uuid, 10);
  ASSERT_TRUE(logs.ok()) << logs.status().ToString();
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].request, log.request);  // quotes, commas and braces kept as they were
  EXPECT_EQ((*logs)[0].msg_id, ids[0]);

  // One event a move, in the batch's order, seqs following on.
  ASSERT_EQ(events.size(), 5u);
  const std::vector<std::pair<int64_t, std::string>> moves = {
      {ids[0], "W"}, {ids[1], "E"}, {ids[2], "F"}, {ids[3], "W"}, {ids[3], "D"}};
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, last_seq + 1 + static_cast<int64_t>(i));
    EXPECT_NE(events[i].payload.find("\"msg_id\":" + std::to_string(moves[i].first) + ","), std::string::npos)
        << events[i].payload;
    EXPECT_NE(events[i].payload.find("\"status\":\"" + moves[i].second + "\""), std::string::npos)
        << events[i].payload;
  }
}

TEST_P(StoreTest, ClaimSkipsRemovedChannels) {
  Channel ch = AddChannel();
  Queue(ch, 2);
  ASSERT_TRUE(store_->RemoveChannel(ch.uuid).ok());
  EXPECT_TRUE(Claim(10).empty());
}

// --- Statuses --------------------------------------------------------------------

TEST_P(StoreTest, StatusesFindTheirMsgByUuidOnItsOwnChannelOnly) {
  Channel ch = AddChannel();
  Channel other = AddChannel("KN");
  auto ids = Queue(ch, 1);
  const std::string uuid = store_->GetMsg(ids[0])->uuid;
  StatusUpdate delivered;
  delivered.channel_uuid = other.uuid;
  delivered.msg_uuid = uuid;
  delivered.status = MsgStatus::kDelivered;
  auto r = store_->WriteStatus(delivered);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, StatusOutcome::kNotFound);

  delivered.channel_uuid = ch.uuid;
  r = store_->WriteStatus(delivered);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, StatusOutcome::kUpdated);
  EXPECT_EQ(r->msg_id, ids[0]);
  EXPECT_EQ(store_->GetMsg(ids[0])->status, MsgStatus::kDelivered);

  StatusUpdate unnamed;
  unnamed.channel_uuid = ch.uuid;
  unnamed.status = MsgStatus::kDelivered;
  EXPECT_FALSE(store_->WriteStatus(unnamed).ok());
}

TEST_P(StoreTest, StatusTransitionsAppliedAndIgnored) {
  Channel ch = AddChannel();
  auto ids = Queue(ch, 1);
  auto claimed = Claim(1);
  ASSERT_EQ(claimed.size(), 1u);
  const int64_t id = ids[0];

  clock_.Advance(kMicrosPerSecond);
  ChannelLog sent_log;
  sent_log.description = "Message Sent";
  sent_log.status_code = 201;
  StatusUpdate wired;
  wired.channel_uuid = ch.uuid;
  wired.msg_id = id;
  wired.status = MsgStatus::kWired;
  wired.new_external_id = "SM123";
  wired.logs = {sent_log};
  auto r = store_->WriteStatus(wired);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, StatusOutcome::kUpdated);
  EXPECT_EQ(r->msg_id, id);
  EXPECT_EQ(r->status, MsgStatus::kWired);

  auto m = store_->GetMsg(id);
  EXPECT_EQ(m->status, MsgStatus::kWired);
  EXPECT_EQ(m->external_id, "SM123");
  EXPECT_EQ(m->sent_on, kStart + kMicrosPerSecond);
  EXPECT_EQ(m->modified_on, kStart + kMicrosPerSecond);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs WHERE claimed_by IS NOT NULL"), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE finished_on IS NOT NULL "
                      "AND outcome = 'W'"),
            1);
  EXPECT_EQ(store_->ListChannelLogs(id, "", 10)->size(), 1u);

  // Callbacks by the provider's id.
  clock_.Advance(kMicrosPerSecond);
  StatusUpdate delivered;
  delivered.channel_uuid = ch.uuid;
  delivered.external_id = "SM123";
  delivered.status = MsgStatus::kDelivered;
  r = store_->WriteStatus(delivered);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, StatusOutcome::kUpdated);
  EXPECT_EQ(r->msg_id, id);
  EXPECT_EQ(store_->GetMsg(id)->sent_on, kStart + kMicrosPerSecond);  // kept, not moved

  // Repeated: unchanged. Backwards (W after D): ignored, logs still kept.
  EXPECT_EQ(store_->WriteStatus(delivered)->outcome, StatusOutcome::kUnchanged);
  StatusUpdate late = wired;
  late.new_external_id.clear();
  r = store_->WriteStatus(late);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, StatusOutcome::kIgnored);
  EXPECT_EQ(r->status, MsgStatus::kDelivered);
  EXPECT_EQ(store_->GetMsg(id)->status, MsgStatus::kDelivered);
  EXPECT_EQ(store_->ListChannelLogs(id, "", 10)->size(), 2u);

  // Unknown msgs: a NotFound outcome, not an error; the log is kept anyway.
  StatusUpdate unknown = delivered;
  unknown.external_id = "nope";
  unknown.logs = {sent_log};
  r = store_->WriteStatus(unknown);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, StatusOutcome::kNotFound);
  StatusUpdate wrong_channel = wired;
  wrong_channel.channel_uuid = AddChannel("KN").uuid;
  EXPECT_EQ(store_->WriteStatus(wrong_channel)->outcome, StatusOutcome::kNotFound);
  StatusUpdate neither;
  neither.channel_uuid = ch.uuid;
  EXPECT_TRUE(store_->WriteStatus(neither).status().IsInvalidArgument());
  StatusUpdate no_channel = wired;
  no_channel.channel_uuid = "6a0ee8a4-04c2-4b9b-8a5c-0b5d1d0b7e3f";
  EXPECT_TRUE(store_->WriteStatus(no_channel).status().IsNotFound());

  // Events: W and D only.
  std::vector<std::string> statuses;
  for (const auto& e : AllEvents()) {
    if (e.topic != "status.updated") continue;
    auto p = ParseObject(e.payload);
    EXPECT_EQ(p->getValue<int64_t>("msg_id"), id);
    EXPECT_EQ(p->getValue<std::string>("channel_uuid"), ch.uuid);
    EXPECT_EQ(p->getValue<std::string>("external_id"), "SM123");
    statuses.push_back(p->getValue<std::string>("status"));
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"W", "D"}));
}

TEST_P(StoreTest, ErroredMsgIsRetriedWhenDue) {
  Channel ch = AddChannel();
  auto ids = Queue(ch, 1);
  ASSERT_EQ(Claim(1).size(), 1u);

  StatusUpdate err;
  err.channel_uuid = ch.uuid;
  err.msg_id = ids[0];
  err.status = MsgStatus::kErrored;
  err.error_reason = "received non 200 status: 500";
  err.next_attempt_on = kStart + 60 * kMicrosPerSecond;
  err.count_error = true;
  ASSERT_EQ(store_->WriteStatus(err)->outcome, StatusOutcome::kUpdated);
  auto m = store_->GetMsg(ids[0]);
  EXPECT_EQ(m->status, MsgStatus::kErrored);
  EXPECT_EQ(m->error_count, 1);
  EXPECT_EQ(m->error_reason, "received non 200 status: 500");
  EXPECT_FALSE(m->sent_on.has_value());
  EXPECT_EQ(store_->Queue()->front().retrying, 1);

  EXPECT_TRUE(Claim(1).empty());
  clock_.Advance(60 * kMicrosPerSecond);
  auto again = Claim(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, ids[0]);
  EXPECT_EQ(again[0].status, MsgStatus::kQueued);  // back in the queue while in flight
  EXPECT_EQ(again[0].error_count, 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts"), 2);
  EXPECT_EQ(store_->Queue()->front().in_flight, 1);

  err.status = MsgStatus::kFailed;
  err.next_attempt_on.reset();
  ASSERT_EQ(store_->WriteStatus(err)->outcome, StatusOutcome::kUpdated);
  m = store_->GetMsg(ids[0]);
  EXPECT_EQ(m->status, MsgStatus::kFailed);
  EXPECT_EQ(m->error_count, 2);
  EXPECT_FALSE(m->next_attempt_on.has_value());
}

// A delivery report that says a sent msg failed for a reason that may pass
// (a Twilio rate limit, an unreachable handset) writes E with a time for
// the next attempt: the msg, no longer claimed, is claimed again when due.
TEST_P(StoreTest, ErroredByADeliveryReportIsClaimedAgainWhenDue) {
  Channel ch = AddChannel("TW");
  auto ids = Queue(ch, 1);
  ASSERT_EQ(Claim(1).size(), 1u);
  ASSERT_EQ(WriteStatus(ch, ids[0], MsgStatus::kWired, "SM1").outcome, StatusOutcome::kUpdated);

  StatusUpdate report;  // as the handler builds it: by the provider's id
  report.channel_uuid = ch.uuid;
  report.external_id = "SM1";
  report.status = MsgStatus::kErrored;
  report.error_reason = "twilio error 63018: rate limit exceeded for channel";
  report.next_attempt_on = kStart + 60 * kMicrosPerSecond;
  report.count_error = true;
  ASSERT_EQ(store_->WriteStatus(report)->outcome, StatusOutcome::kUpdated);
  auto m = store_->GetMsg(ids[0]);
  EXPECT_EQ(m->status, MsgStatus::kErrored);
  EXPECT_EQ(m->error_count, 1);
  EXPECT_EQ(m->error_reason, "twilio error 63018: rate limit exceeded for channel");
  EXPECT_EQ(m->next_attempt_on, kStart + 60 * kMicrosPerSecond);
  EXPECT_EQ(store_->Queue()->front().retrying, 1);

  EXPECT_TRUE(Claim(1).empty());
  clock_.Advance(60 * kMicrosPerSecond);
  auto again = Claim(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, ids[0]);
  EXPECT_EQ(again[0].status, MsgStatus::kQueued);
  EXPECT_EQ(again[0].error_count, 1);

  // The resend's new provider id replaces the old one, so a late report
  // for the first attempt no longer finds the msg.
  ASSERT_EQ(WriteStatus(ch, ids[0], MsgStatus::kWired, "SM2").outcome, StatusOutcome::kUpdated);
  report.status = MsgStatus::kDelivered;
  report.next_attempt_on.reset();
  report.count_error = false;
  EXPECT_EQ(store_->WriteStatus(report)->outcome, StatusOutcome::kNotFound);
}

TEST_P(StoreTest, RequeueReleasesTheClaim) {
  Channel ch = AddChannel("EX", 1);
  auto ids = Queue(ch, 1);
  ASSERT_EQ(Claim(1).size(), 1u);
  StatusUpdate requeue;
  requeue.channel_uuid = ch.uuid;
  requeue.msg_id = ids[0];
  requeue.status = MsgStatus::kQueued;
  requeue.next_attempt_on = kStart + 5 * kMicrosPerSecond;
  auto r = store_->WriteStatus(requeue);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, StatusOutcome::kUnchanged);
  EXPECT_EQ(store_->Queue()->front().in_flight, 0);
  EXPECT_EQ(store_->Queue()->front().queued_bulk, 1);
  EXPECT_EQ(store_->GetMsg(ids[0])->error_count, 0);
  EXPECT_TRUE(Claim(1).empty());
  clock_.Advance(5 * kMicrosPerSecond);
  EXPECT_EQ(Claim(1).size(), 1u);
}

// --- Interrupted attempts, retry, fail ---------------------------------------------

TEST_P(StoreTest, HeartbeatsAreKeptPerWorkerAndGoWithTheirAttempts) {
  ASSERT_TRUE(store_->Heartbeat("hosta:1", kStart).ok());
  ASSERT_TRUE(store_->Heartbeat("hostb:2", kStart + 1).ok());
  ASSERT_TRUE(store_->Heartbeat("hosta:1", kStart + 5 * kMicrosPerSecond).ok());
  EXPECT_EQ(*store_->Heartbeats(),
            (std::map<std::string, Micros>{{"hosta:1", kStart + 5 * kMicrosPerSecond}, {"hostb:2", kStart + 1}}));
  EXPECT_EQ(CountRows("SELECT started_on FROM workers WHERE name = 'hosta:1'"), kStart);
  EXPECT_TRUE(store_->Heartbeat("", kStart).IsInvalidArgument());

  ASSERT_TRUE(store_->EndHeartbeat("hostb:2").ok());
  ASSERT_TRUE(store_->EndHeartbeat("nobody:3").ok());
  // A dead worker's attempts marked interrupted: its heartbeat goes too.
  ASSERT_TRUE(store_->FailInterruptedAttempts("hosta:1", kStart + 5 * kMicrosPerSecond).ok());
  EXPECT_TRUE(store_->Heartbeats()->empty());
}

// Another host read a stale heartbeat and judged the sender dead; the
// sender beat (and claimed) before the judgement was written. It lives:
// its row and its attempts are left alone, and a later judgement on the
// new beat goes through.
TEST_P(StoreTest, ASenderThatBeatSinceItWasJudgedDeadIsLeftAlone) {
  Channel ch = AddChannel();
  Queue(ch, 2);
  ASSERT_TRUE(store_->Heartbeat("hosta:1", kStart).ok());
  const Micros judged_on_beat = (*store_->Heartbeats())["hosta:1"];
  ASSERT_TRUE(store_->Heartbeat("hosta:1", kStart + 40 * kMicrosPerSecond).ok());
  ASSERT_EQ(Claim(2, "hosta:1").size(), 2u);

  auto stale = store_->FailInterruptedAttempts("hosta:1", judged_on_beat);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_TRUE(stale->empty());
  EXPECT_EQ(store_->Heartbeats()->count("hosta:1"), 1u);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE finished_on IS NULL"), 2);
  EXPECT_EQ(store_->OpenAttemptWorkers()->size(), 1u);

  auto fresh = store_->FailInterruptedAttempts("hosta:1", kStart + 40 * kMicrosPerSecond);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->size(), 2u);
  EXPECT_TRUE(store_->Heartbeats()->empty());

  // A worker with no row is judged as seen with none (0): a row written
  // since says it lives.
  Queue(ch, 1);
  ASSERT_EQ(Claim(1, "hostb:2").size(), 1u);
  ASSERT_TRUE(store_->Heartbeat("hostb:2", kStart + 50 * kMicrosPerSecond).ok());
  EXPECT_TRUE(store_->FailInterruptedAttempts("hostb:2", 0)->empty());
  ASSERT_TRUE(store_->EndHeartbeat("hostb:2").ok());
  EXPECT_EQ(store_->FailInterruptedAttempts("hostb:2", 0)->size(), 1u);
}

TEST_P(StoreTest, OpenAttemptWorkersGiveTheirNewestAttempt) {
  Channel ch = AddChannel();
  Queue(ch, 3);
  ASSERT_EQ(Claim(1, "hosta:1").size(), 1u);
  clock_.Advance(7 * kMicrosPerSecond);
  ASSERT_EQ(Claim(1, "hosta:1").size(), 1u);
  ASSERT_EQ(Claim(1, "hostb:2").size(), 1u);
  auto open = store_->OpenAttemptWorkers();
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), 2u);
  EXPECT_EQ((*open)["hosta:1"], (*open)["hostb:2"]);
  EXPECT_GE((*open)["hosta:1"], kStart + 7 * kMicrosPerSecond);
}

TEST_P(StoreTest, InterruptedAttemptsBecomeErroredWithoutRetry) {
  Channel ch = AddChannel();
  Queue(ch, 4);
  auto w1 = Claim(2, "host:1");
  auto w2 = Claim(1, "host:2");
  ASSERT_EQ(w1.size(), 2u);
  ASSERT_EQ(w2.size(), 1u);

  // One of w1's was answered before the crash: it keeps its status.
  EXPECT_EQ(WriteStatus(ch, w1[1].id, MsgStatus::kWired).outcome, StatusOutcome::kUpdated);

  auto failed = store_->FailInterruptedAttempts("host:1", 0);
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(*failed, (std::vector<int64_t>{w1[0].id}));
  auto m = store_->GetMsg(w1[0].id);
  EXPECT_EQ(m->status, MsgStatus::kErrored);
  EXPECT_EQ(m->error_reason, "interrupted, outcome unknown");
  EXPECT_FALSE(m->next_attempt_on.has_value());
  EXPECT_EQ(store_->GetMsg(w1[1].id)->status, MsgStatus::kWired);

  auto q = store_->Queue();
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].interrupted, 1);
  EXPECT_EQ((*q)[0].retrying, 0);
  EXPECT_EQ((*q)[0].in_flight, 1);  // w2's
  EXPECT_EQ((*q)[0].queued_bulk, 1);

  // Not retried automatically, however late it gets.
  clock_.Advance(3600 * kMicrosPerSecond);
  auto next = Claim(10, "host:3");
  ASSERT_EQ(next.size(), 1u);
  EXPECT_NE(next[0].id, w1[0].id);

  auto all = store_->FailInterruptedAttempts("", 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);  // w2's and host:3's
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE finished_on IS NULL"), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE outcome = 'interrupted'"), 3);
  EXPECT_EQ(store_->Queue()->front().interrupted, 3);
  EXPECT_TRUE(store_->FailInterruptedAttempts("", 0)->empty());
}

TEST_P(StoreTest, OperatorRetryAndFail) {
  Channel ch = AddChannel();
  auto ids = Queue(ch, 4);
  auto incoming = WriteIncoming(*store_, Incoming(ch, "tel:+250788383383", "in"), {});
  ASSERT_EQ(Claim(4).size(), 4u);
  StatusUpdate err;
  err.channel_uuid = ch.uuid;
  err.status = MsgStatus::kErrored;
  err.error_reason = "boom";
  err.count_error = true;
  err.msg_id = ids[0];
  ASSERT_TRUE(store_->WriteStatus(err).ok());
  err.msg_id = ids[1];
  err.status = MsgStatus::kFailed;
  ASSERT_TRUE(store_->WriteStatus(err).ok());
  WriteStatus(ch, ids[2], MsgStatus::kDelivered);
  // ids[3] stays in flight.

  auto retried = store_->RetryMsgs({ids[0], ids[1], ids[2], incoming->msg_id, 999999, ids[0]});
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(*retried, (std::vector<int64_t>{ids[0], ids[1]}));
  auto m = store_->GetMsg(ids[1]);
  EXPECT_EQ(m->status, MsgStatus::kQueued);
  EXPECT_EQ(m->error_reason, "");
  EXPECT_EQ(m->error_count, 0);
  EXPECT_EQ(m->next_attempt_on, kStart);

  auto failed = store_->FailMsgs({ids[0], ids[2], ids[3], incoming->msg_id});
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(*failed, (std::vector<int64_t>{ids[0], ids[3]}));
  EXPECT_EQ(store_->GetMsg(ids[3])->error_reason, "failed by operator");
  EXPECT_EQ(store_->GetMsg(ids[2])->status, MsgStatus::kDelivered);
  EXPECT_EQ(store_->GetMsg(incoming->msg_id)->status, MsgStatus::kPending);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE finished_on IS NULL"), 0);
  // The sender's late answer for a msg an operator failed is ignored.
  EXPECT_EQ(WriteStatus(ch, ids[3], MsgStatus::kWired).outcome, StatusOutcome::kIgnored);

  // RetryAllErrored: every outgoing E.
  auto claimed = Claim(1);
  ASSERT_EQ(claimed.size(), 1u);
  err.msg_id = claimed[0].id;
  err.status = MsgStatus::kErrored;
  ASSERT_TRUE(store_->WriteStatus(err).ok());
  auto all = store_->RetryAllErrored();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<int64_t>{claimed[0].id}));

  int retried_events = 0, failed_events = 0;
  for (const auto& e : AllEvents()) {
    retried_events += e.topic == "msg.retried";
    failed_events += e.topic == "msg.failed";
  }
  EXPECT_EQ(retried_events, 3);
  EXPECT_EQ(failed_events, 2);
}

// --- Reading -------------------------------------------------------------------

TEST_P(StoreTest, ListMsgsNewestFirstOrAfterId) {
  Channel a = AddChannel("EX");
  Channel b = AddChannel("KN");
  auto out_a = Queue(a, 3);
  auto in_b = WriteIncoming(*store_, Incoming(b, "tel:+250788383383", "in"), {});
  ASSERT_TRUE(in_b.ok());

  MsgFilter all;
  auto listed = store_->ListMsgs(all);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 4u);
  EXPECT_EQ((*listed)[0].id, in_b->msg_id);
  EXPECT_EQ((*listed)[3].id, out_a[0]);
  EXPECT_EQ((*listed)[0].channel_uuid, b.uuid);
  EXPECT_EQ((*listed)[0].channel_type, "KN");

  MsgFilter limited;
  limited.limit = 2;
  EXPECT_EQ(store_->ListMsgs(limited)->size(), 2u);

  MsgFilter after;
  after.after_id = out_a[0];
  after.limit = 2;
  auto tail = store_->ListMsgs(after);
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].id, out_a[1]);
  EXPECT_EQ((*tail)[1].id, out_a[2]);

  MsgFilter in_only;
  in_only.direction = Direction::kIn;
  ASSERT_EQ(store_->ListMsgs(in_only)->size(), 1u);
  MsgFilter queued_on_a;
  queued_on_a.status = MsgStatus::kQueued;
  queued_on_a.channel_uuid = a.uuid;
  EXPECT_EQ(store_->ListMsgs(queued_on_a)->size(), 3u);
  queued_on_a.channel_uuid = b.uuid;
  EXPECT_EQ(store_->ListMsgs(queued_on_a)->size(), 0u);
  MsgFilter bad_channel;
  bad_channel.channel_uuid = "6a0ee8a4-04c2-4b9b-8a5c-0b5d1d0b7e3f";
  EXPECT_TRUE(store_->ListMsgs(bad_channel).status().IsNotFound());

  // By channel alone, or by status alone: read a (channel, status) pair at
  // a time, merged in order, to the limit.
  ASSERT_EQ(Claim(3).size(), 3u);
  WriteStatus(a, out_a[1], MsgStatus::kWired);
  WriteStatus(a, out_a[2], MsgStatus::kFailed);
  const int64_t queued_on_b = Queue(b, 1).front();
  const auto ids = [&](const MsgFilter& filter) {
    std::vector<int64_t> got;
    auto listed_now = store_->ListMsgs(filter);
    EXPECT_TRUE(listed_now.ok()) << listed_now.status().ToString();
    if (listed_now.ok())
      for (const auto& m : *listed_now) got.push_back(m.id);
    return got;
  };
  MsgFilter on_a;
  on_a.channel_uuid = a.uuid;
  EXPECT_EQ(ids(on_a), (std::vector<int64_t>{out_a[2], out_a[1], out_a[0]}));
  on_a.limit = 2;
  EXPECT_EQ(ids(on_a), (std::vector<int64_t>{out_a[2], out_a[1]}));
  on_a.after_id = out_a[0];
  EXPECT_EQ(ids(on_a), (std::vector<int64_t>{out_a[1], out_a[2]}));
  on_a.limit = 1;
  EXPECT_EQ(ids(on_a), (std::vector<int64_t>{out_a[1]}));
  MsgFilter queued;
  queued.status = MsgStatus::kQueued;
  EXPECT_EQ(ids(queued), (std::vector<int64_t>{queued_on_b, out_a[0]}));
  queued.limit = 1;
  EXPECT_EQ(ids(queued), (std::vector<int64_t>{queued_on_b}));
  queued.after_id = out_a[0];
  EXPECT_EQ(ids(queued), (std::vector<int64_t>{queued_on_b}));
  MsgFilter in_on_b;
  in_on_b.channel_uuid = b.uuid;
  in_on_b.direction = Direction::kIn;
  EXPECT_EQ(ids(in_on_b), (std::vector<int64_t>{in_b->msg_id}));

  EXPECT_EQ(store_->GetMsg(424242).status().message(), "message not found");
  EXPECT_TRUE(store_->GetMsgByUUID("nope").status().IsNotFound());
}

TEST_P(StoreTest, QueueSummaryCountsPerActiveChannel) {
  Channel a = AddChannel("EX");
  Channel b = AddChannel("KN");
  Channel gone = AddChannel("TG");
  ASSERT_TRUE(store_->RemoveChannel(gone.uuid).ok());
  Queue(a, 3, Priority::kHigh);
  Queue(a, 2, Priority::kBulk);
  auto claimed = Claim(2, "host:1", {{b.id, 0}});
  ASSERT_EQ(claimed.size(), 2u);  // the two high ones
  StatusUpdate fail;
  fail.channel_uuid = a.uuid;
  fail.msg_id = claimed[0].id;
  fail.status = MsgStatus::kFailed;
  ASSERT_TRUE(store_->WriteStatus(fail).ok());

  auto q = store_->Queue();
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ((*q)[0].channel_uuid, a.uuid);
  EXPECT_EQ((*q)[0].channel_type, "EX");
  EXPECT_EQ((*q)[0].queued_high, 1);
  EXPECT_EQ((*q)[0].queued_bulk, 2);
  EXPECT_EQ((*q)[0].in_flight, 1);
  EXPECT_EQ((*q)[0].failed, 1);
  EXPECT_EQ((*q)[0].retrying, 0);
  EXPECT_EQ((*q)[1].channel_uuid, b.uuid);
  EXPECT_EQ((*q)[1].queued_high + (*q)[1].queued_bulk + (*q)[1].failed, 0);
}

// --- Import ----------------------------------------------------------------------

TEST_P(StoreTest, ImportKeepsFieldsAndSkipsKnownUuids) {
  Channel ch = AddChannel();
  Msg m;
  m.uuid = "11111111-2222-4333-8444-555555555555";
  m.channel_uuid = ch.uuid;
  m.direction = Direction::kOut;
  m.status = MsgStatus::kDelivered;
  m.urn = "tel:+250788000001";
  m.text = "old";
  m.external_id = "ext-1";
  m.error_count = 1;
  m.created_on = kStart - 1000;
  m.modified_on = kStart - 500;
  m.sent_on = kStart - 700;
  Msg in = m;
  in.uuid = "11111111-2222-4333-8444-666666666666";
  in.direction = Direction::kIn;
  in.status = MsgStatus::kPending;
  in.received_on = kStart - 900;

  Msg unknown = m;
  unknown.uuid = "11111111-2222-4333-8444-777777777777";
  unknown.channel_uuid = "6a0ee8a4-04c2-4b9b-8a5c-0b5d1d0b7e3f";
  auto bad = store_->ImportMsgs({m, unknown});
  EXPECT_TRUE(bad.status().IsNotFound());  // as QueueOutgoing answers for an unknown channel
  EXPECT_NE(bad.status().message().find(unknown.channel_uuid), std::string::npos);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 0);

  auto added = store_->ImportMsgs({m, in});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(*added, 2);
  auto stored = store_->GetMsgByUUID(m.uuid);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->status, MsgStatus::kDelivered);
  EXPECT_EQ(stored->created_on, kStart - 1000);
  EXPECT_EQ(stored->modified_on, kStart - 500);
  EXPECT_EQ(stored->sent_on, kStart - 700);
  EXPECT_EQ(stored->error_count, 1);
  EXPECT_EQ(stored->external_id, "ext-1");
  EXPECT_EQ(store_->GetMsgByUUID(in.uuid)->received_on, kStart - 900);

  EXPECT_EQ(*store_->ImportMsgs({m, in}), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 2);
  EXPECT_EQ(*store_->LastEventSeq(), 0);  // imports write no events
}

// --- Contacts ----------------------------------------------------------------------

TEST_P(StoreTest, StopAndUnstopContacts) {
  Channel ch = AddChannel();
  EXPECT_TRUE(GetContactByURN(*store_, "tel:+250788000001").status().IsNotFound());
  auto stopped = store_->SetContactStopped("tel:+250788000001", true, "");
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_TRUE(stopped->stopped);
  EXPECT_EQ(stopped->urns, (std::vector<std::string>{"tel:+250788000001"}));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM contact_urns WHERE channel_id IS NULL"), 1);

  ASSERT_TRUE(store_->SetContactStopped("tel:+250788000002", false, ch.uuid).ok());
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM contact_urns WHERE channel_id IS NOT NULL"), 1);
  EXPECT_EQ(store_->ListContacts(false)->size(), 2u);
  auto only_stopped = store_->ListContacts(true);
  ASSERT_EQ(only_stopped->size(), 1u);
  EXPECT_EQ(only_stopped->front().uuid, stopped->uuid);
  EXPECT_EQ(only_stopped->front().urns.size(), 1u);

  auto unstopped = store_->SetContactStopped("tel:+250788000001", false, "");
  ASSERT_TRUE(unstopped.ok());
  EXPECT_EQ(unstopped->id, stopped->id);
  EXPECT_FALSE(GetContactByURN(*store_, "tel:+250788000001")->stopped);
  EXPECT_TRUE(store_->ListContacts(true)->empty());

  auto events = AllEvents();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].topic, "contact.stopped");
  EXPECT_EQ(events[2].topic, "contact.unstopped");
  auto p = ParseObject(events[0].payload);
  EXPECT_EQ(p->getValue<std::string>("urn"), "tel:+250788000001");
  EXPECT_EQ(p->getValue<std::string>("contact_uuid"), stopped->uuid);

  EXPECT_TRUE(store_->SetContactStopped("bad", true, "").status().IsInvalidArgument());
  EXPECT_TRUE(store_->SetContactStopped("tel:+1", true, "6a0ee8a4-04c2-4b9b-8a5c-0b5d1d0b7e3f")
                  .status()
                  .IsNotFound());
}

// --- Channel logs and events ---------------------------------------------------------

TEST_P(StoreTest, ChannelLogsNewestFirst) {
  Channel a = AddChannel("EX");
  Channel b = AddChannel("KN");
  std::vector<ChannelLog> logs;
  for (int i = 0; i < 3; ++i) {
    ChannelLog l;
    l.channel_uuid = a.uuid;
    l.method = "POST";
    l.url = "https://provider/send/" + std::to_string(i);
    l.status_code = 500;
    l.error = "received non 200 status: 500";
    l.elapsed_ms = 10 + i;
    logs.push_back(l);
  }
  ChannelLog other;
  other.channel_id = b.id;
  other.description = "Channel Error";
  logs.push_back(other);
  ASSERT_TRUE(store_->WriteChannelLogs(logs).ok());

  auto listed = store_->ListChannelLogs(std::nullopt, a.uuid, 2);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].url, "https://provider/send/2");
  EXPECT_EQ((*listed)[0].error, "received non 200 status: 500");
  EXPECT_EQ((*listed)[0].description, "Error: received non 200 status: 500");
  EXPECT_TRUE((*listed)[0].is_error());
  EXPECT_EQ((*listed)[0].elapsed_ms, 12);
  EXPECT_FALSE((*listed)[0].msg_id.has_value());
  EXPECT_EQ(store_->ListChannelLogs(std::nullopt, "", 0)->size(), 4u);
  EXPECT_EQ(store_->ListChannelLogs(std::nullopt, b.uuid, 10)->front().description,
            "Channel Error");

  EXPECT_TRUE(store_->WriteChannelLogs({ChannelLog{}}).IsInvalidArgument());
  ChannelLog unknown_msg;
  unknown_msg.channel_id = a.id;
  unknown_msg.msg_id = 987654;
  EXPECT_FALSE(store_->WriteChannelLogs({unknown_msg}).ok());
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM channel_logs"), 4);
}

// `writers` connections each writing `batches` WriteIntakes calls of
// `per_batch` incoming msgs at once, the msg of writer w, batch b, item i
// made by `make`; while a follower reads `seq > cursor` and moves its
// cursor to the last seq it read, as courier-hook and `events --follow`
// do. Returns the seqs followed; counts intakes stored and refused.
struct RaceResult {
  std::vector<int64_t> followed;
  int stored = 0;
  int refused = 0;
};

RaceResult RaceWriters(int writers, int batches, int per_batch,
                       const std::function<Msg(int w, int b, int i)>& make,
                       const std::function<std::unique_ptr<Store>()>& open) {
  std::atomic<bool> writing{true};
  std::atomic<int> refused{0};
  std::atomic<int> stored{0};
  RaceResult result;
  std::thread follower([&, reader = open()] {
    int64_t cursor = 0;
    for (bool last_round = false;;) {
      auto events = reader->EventsAfter(cursor, 1000);
      ASSERT_TRUE(events.ok()) << events.status().ToString();
      for (const auto& e : *events) {
        result.followed.push_back(e.seq);
        cursor = e.seq;
      }
      if (last_round) break;
      if (!writing) last_round = true;
    }
  });
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w, store = open()] {
      for (int b = 0; b < batches; ++b) {
        std::vector<Intake> intakes;
        for (int i = 0; i < per_batch; ++i) {
          Intake in;
          in.msgs.push_back(make(w, b, i));
          in.channel_uuid = in.msgs[0].channel_uuid;
          intakes.push_back(std::move(in));
        }
        auto written = store->WriteIntakes(intakes, nullptr);
        ASSERT_TRUE(written.ok()) << written.status().ToString();
        for (const auto& out : *written) {
          if (!out.status.ok()) {
            ++refused;
            ADD_FAILURE() << "intake refused: " << out.status.ToString();
          } else if (!out.msgs.at(0).duplicate) {
            ++stored;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  writing = false;
  follower.join();
  result.stored = stored;
  result.refused = refused;
  return result;
}

// On PostgreSQL writers on several connections really commit at once, and
// a seq is taken before its commit lands: the follower must still see
// every event exactly once, in seq order (the events lock makes seq order
// commit order; without it this test fails).
TEST_P(StoreTest, WritersRacingNeverMakeAFollowerSkipAnEvent) {
  Channel ch = AddChannel();
  if (engine_ == Engine::kPostgreSQL) {
    // Each event insert sleeps up to 3 ms: the time between a writer
    // taking its seqs and its commit becoming visible, in which another
    // writer's later seqs could otherwise commit first.
    PGconn* conn = ::PQconnectdb(pg_uri_.c_str());
    PGresult* res = ::PQexec(conn,
                             "CREATE FUNCTION slow_event() RETURNS trigger LANGUAGE plpgsql AS "
                             "$$ BEGIN PERFORM pg_sleep(random() * 0.003); RETURN NEW; END $$; "
                             "CREATE TRIGGER slow_event AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION slow_event()");
    EXPECT_EQ(::PQresultStatus(res), PGRES_COMMAND_OK) << ::PQerrorMessage(conn);
    ::PQclear(res);
    ::PQfinish(conn);
  }
  constexpr int kWriters = 4, kBatches = 25, kPerBatch = 4;
  // Each writer its own contacts and provider ids: nothing makes one
  // writer wait for another but the store's own ordering.
  RaceResult race = RaceWriters(
      kWriters, kBatches, kPerBatch,
      [&](int w, int b, int i) {
        return Incoming(ch, "tel:+2507881" + std::to_string(10000 + w * 1000 + b * kPerBatch + i), "hi",
                        "w" + std::to_string(w) + "-" + std::to_string(b) + "-" + std::to_string(i));
      },
      [&] { return OpenAnother(); });
  EXPECT_EQ(race.refused, 0);
  EXPECT_EQ(race.stored, kWriters * kBatches * kPerBatch);
  std::vector<int64_t> all;
  for (const auto& e : AllEvents()) all.push_back(e.seq);
  EXPECT_EQ(all.size(), static_cast<size_t>(kWriters * kBatches * kPerBatch));
  EXPECT_EQ(race.followed, all);
}

// Writers sharing URNs and provider ids race to create the same contacts
// and to store the same webhook (two receivers given one provider retry):
// every intake is stored or answered as a duplicate, none refused, one
// contact per URN, one msg per provider id.
// Prune on PostgreSQL while another host re-queues the same failed msg
// (an operator's retry, its transaction still open): prune waits for the
// retry, sees the msg queued again and leaves it, attempts and logs
// included. Read once and deleted later, it would have gone queued.
TEST_P(StoreTest, PruneLeavesAMsgAnotherHostRequeuesMeanwhile) {
  if (GetParam() != Engine::kPostgreSQL) GTEST_SKIP() << "SQLite's writers take turns";
  Channel ch = AddChannel();
  const int64_t id = Queue(ch, 1).front();
  ASSERT_EQ(Claim(1).size(), 1u);
  WriteStatus(ch, id, MsgStatus::kFailed);
  clock_.Advance(2 * 86400LL * kMicrosPerSecond);

  std::unique_ptr<PGconn, decltype(&::PQfinish)> retry(::PQconnectdb(pg_uri_.c_str()), &::PQfinish);
  ASSERT_EQ(::PQstatus(retry.get()), CONNECTION_OK) << ::PQerrorMessage(retry.get());
  const auto exec = [&](const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&::PQclear)> res(::PQexec(retry.get(), sql.c_str()), &::PQclear);
    EXPECT_EQ(::PQresultStatus(res.get()), PGRES_COMMAND_OK) << sql << ": " << ::PQerrorMessage(retry.get());
  };
  exec("BEGIN");
  exec("UPDATE msgs SET status = 'Q', modified_on = " + std::to_string(clock_.Now()) +
       " WHERE id = " + std::to_string(id));

  PruneRequest request;
  request.msgs_before = clock_.Now() - 86400LL * kMicrosPerSecond;
  std::atomic<bool> pruned{false};
  Result<PruneCounts> counts = Status::Internal("not run");
  std::thread prune([&] {
    counts = store_->Prune(request);
    pruned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(pruned.load()) << "prune did not wait for the retry's lock";
  exec("COMMIT");
  prune.join();
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->msgs, 0);
  EXPECT_EQ(counts->attempts, 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs WHERE status = 'Q' AND id = " + std::to_string(id)), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM attempts WHERE msg_id = " + std::to_string(id)), 1);
}

TEST_P(StoreTest, WritersRacingOnTheSameContactsAndProviderIdsStoreEachOnce) {
  Channel ch = AddChannel();
  constexpr int kWriters = 4, kBatches = 25, kPerBatch = 8;
  RaceResult race = RaceWriters(
      kWriters, kBatches, kPerBatch,
      [&](int w, int b, int i) {
        return Incoming(ch, "tel:+25078810" + std::to_string(1000 + (b * kPerBatch + i) % 20),
                        "from writer " + std::to_string(w), "ext-" + std::to_string(b) + "-" + std::to_string(i));
      },
      [&] { return OpenAnother(); });
  EXPECT_EQ(race.refused, 0);
  EXPECT_EQ(race.stored, kBatches * kPerBatch);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), kBatches * kPerBatch);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM contacts"), 20);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM contact_urns"), 20);
  std::vector<int64_t> all;
  for (const auto& e : AllEvents()) all.push_back(e.seq);
  EXPECT_EQ(race.followed, all);
}

TEST_P(StoreTest, EventsHaveIncreasingSeqInTheirPayload) {
  Channel ch = AddChannel();
  EXPECT_EQ(*store_->LastEventSeq(), 0);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(WriteIncoming(*store_, Incoming(ch, "tel:+25078800000" + std::to_string(i), "x"), {})
                    .ok());
  }
  Queue(ch, 3);
  auto events = AllEvents();
  ASSERT_EQ(events.size(), 8u);
  int64_t last = 0;
  for (const auto& e : events) {
    EXPECT_GT(e.seq, last);
    last = e.seq;
    auto p = ParseObject(e.payload);
    EXPECT_EQ(p->getValue<int64_t>("seq"), e.seq);
    EXPECT_EQ(p->getValue<std::string>("topic"), e.topic);
    EXPECT_EQ(e.created_on, kStart);
  }
  EXPECT_EQ(*store_->LastEventSeq(), last);
  auto after = store_->EventsAfter(events[5].seq, 10);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].seq, events[6].seq);
  EXPECT_EQ(store_->EventsAfter(0, 3)->size(), 3u);
}

// --- Failures ----------------------------------------------------------------------

TEST(SqliteStoreFailureTest, LockedDatabaseIsBusyWithinTheTimeout) {
  ScratchDir dir;
  ManualClock clock(kStart);
  std::string path = dir.path() + "/courier.db";
  Channel ch;
  {
    SqliteStore setup(path, clock);
    ASSERT_TRUE(setup.Migrate().ok());
    Channel c;
    c.type = "EX";
    ch = *setup.AddChannel(c);
  }
  SqliteStore store(path, clock, /*busy_timeout_ms=*/100);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.Ping().ok());

  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session locker(Poco::Data::SQLite::Connector::KEY, path);
  locker << "BEGIN EXCLUSIVE", now;

  Msg m;
  m.channel_uuid = ch.uuid;
  m.urn = "tel:+250788383383";
  m.text = "hi";
  auto started = std::chrono::steady_clock::now();
  auto r = WriteIncoming(store, m, {});
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kBusy) << r.status().ToString();
  EXPECT_TRUE(r.status().IsUnavailable());
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  EXPECT_GE(elapsed, std::chrono::milliseconds(80));

  // Readers still read (WAL), a new connection still opens, and once the
  // lock goes the write works.
  EXPECT_TRUE(store.GetChannel(ch.uuid).ok());
  SqliteStore late(path, clock, 100);
  Status opened = late.Open();
  EXPECT_TRUE(opened.ok()) << opened.ToString();
  EXPECT_TRUE(late.ListChannels().ok());
  locker << "ROLLBACK", now;
  auto ok = WriteIncoming(store, m, {});
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

// Runs in a child process: opens the store at `path` (as an unprivileged
// user when the tests run as root, since root writes through file modes)
// and returns 0 when writes fail with Unavailable. With `must_open`, the
// store must also open and serve reads.
int CheckReadOnlyStore(const std::string& path, const std::string& channel_uuid, bool must_open) {
  if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 3;
  ManualClock clock(kStart);
  SqliteStore store(path, clock);
  Status opened = store.Open();
  if (!opened.ok()) {
    std::fprintf(stderr, "open read-only store: %s\n", opened.ToString().c_str());
    return !must_open && opened.code() == Status::Code::kUnavailable ? 0 : 4;
  }
  if (must_open && !store.GetChannel(channel_uuid).ok()) return 5;
  Msg m;
  m.channel_uuid = channel_uuid;
  m.urn = "tel:+250788383383";
  auto r = WriteIncoming(store, m, {});
  if (r.ok() || r.status().code() != Status::Code::kUnavailable) {
    std::fprintf(stderr, "write to read-only store: %s\n", r.status().ToString().c_str());
    return 6;
  }
  if (r.status().message().find("readonly") == std::string::npos) return 7;  // sqlite's text
  Channel c;
  c.type = "EX";
  return store.AddChannel(c).status().code() == Status::Code::kUnavailable ? 0 : 8;
}

int RunInChild(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) ::_exit(body());
  int wstatus = 0;
  if (::waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus)) return -2;
  return WEXITSTATUS(wstatus);
}

TEST(SqliteStoreFailureTest, ReadOnlyFileIsUnavailable) {
  ScratchDir dir;
  ManualClock clock(kStart);
  std::string path = dir.path() + "/courier.db";
  Channel ch;
  {
    SqliteStore setup(path, clock);
    ASSERT_TRUE(setup.Migrate().ok());
    Channel c;
    c.type = "EX";
    ch = *setup.AddChannel(c);
  }
  // The file read-only in a writable directory: reads work, writes fail.
  ASSERT_EQ(::chmod(dir.path().c_str(), 0777), 0);
  ASSERT_EQ(::chmod(path.c_str(), 0444), 0);
  EXPECT_EQ(RunInChild([&] { return CheckReadOnlyStore(path, ch.uuid, true); }), 0);

  // The directory read-only too (no -shm can be made): open or write fails.
  ASSERT_EQ(::chmod(dir.path().c_str(), 0555), 0);
  EXPECT_EQ(RunInChild([&] { return CheckReadOnlyStore(path, ch.uuid, false); }), 0);
  ::chmod(dir.path().c_str(), 0755);
  ::chmod(path.c_str(), 0644);
}

// --- Read-only access --------------------------------------------------------------
//
// "The reader" may read the store but not write it or its directory: nobody
// when the tests run as root (root writes through file modes), else this
// user with the file 0444 and the directory 0555.

bool BecomeReader() { return ::geteuid() != 0 || (::setgid(65534) == 0 && ::setuid(65534) == 0); }

void MakeReadOnlyForReader(const std::string& dir, const std::string& path) {
  const bool root = ::geteuid() == 0;
  ASSERT_EQ(::chmod(path.c_str(), root ? 0644 : 0444), 0);
  ASSERT_EQ(::chmod(dir.c_str(), root ? 0755 : 0555), 0);
}

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::set<std::string> FileNames(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

class SqliteStoreReadOnlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStore setup(path_, clock_);
    ASSERT_TRUE(setup.Migrate().ok());
    channel_ = AddChannel(setup, "1");
  }  // closing the last connection checkpoints, and removes the -wal and -shm

  void TearDown() override {
    ::chmod(dir_.path().c_str(), 0755);
    ::chmod(path_.c_str(), 0644);
  }

  static Channel AddChannel(Store& store, const std::string& address) {
    Channel c;
    c.type = "EX";
    c.address = address;
    auto added = store.AddChannel(c);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return added.ok() ? *added : c;
  }

  Result<std::unique_ptr<Store>> OpenReadOnly() { return OpenStore(path_, clock_, 1000, StoreAccess::kReadOnly); }

  // The number of channels the reader sees, or a negative step that failed.
  int ChannelsSeenByReader() {
    if (!BecomeReader()) return -1;
    auto store = OpenReadOnly();
    if (!store.ok()) {
      std::fprintf(stderr, "open read-only: %s\n", store.status().ToString().c_str());
      return -2;
    }
    auto channels = (*store)->ListChannels();
    if (!channels.ok()) std::fprintf(stderr, "list: %s\n", channels.status().ToString().c_str());
    return channels.ok() ? static_cast<int>(channels->size()) : -3;
  }

  ScratchDir dir_;
  ManualClock clock_{kStart};
  std::string path_ = dir_.path() + "/courier.db";
  Channel channel_;
};

TEST_F(SqliteStoreReadOnlyTest, ReadsAStoreTheUserCannotWriteAndLeavesItAsItWas) {
  MakeReadOnlyForReader(dir_.path(), path_);
  const std::string before = Bytes(path_);
  EXPECT_EQ(RunInChild([&] {
              int seen = ChannelsSeenByReader();
              if (seen != 1) return seen < 0 ? -seen : 10;
              auto store = OpenReadOnly();
              if (!(*store)->Queue().ok() || !(*store)->EventsAfter(0, 10).ok() || !(*store)->SchemaVersion().ok())
                return 11;
              Channel c;
              c.type = "EX";
              auto added = (*store)->AddChannel(c);
              return !added.ok() && added.status().code() == Status::Code::kUnavailable ? 0 : 12;
            }),
            0);
  // No -wal or -shm was made (the reader could not have, nor removed them),
  // and the file is byte for byte what it was.
  EXPECT_EQ(FileNames(dir_.path()), std::set<std::string>{"courier.db"});
  EXPECT_EQ(Bytes(path_), before);
}

TEST_F(SqliteStoreReadOnlyTest, RefusesWritesWhereTheUserCouldWrite) {
  // Run by the file's owner (or root): SQLite's read-only open, not the
  // file mode, is what keeps the store as it was.
  auto store = OpenReadOnly();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string before = Bytes(path_);
  Channel c;
  c.type = "EX";
  auto added = (*store)->AddChannel(c);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.status().code(), Status::Code::kUnavailable);
  // SQLite's words once, not once from SQLite and again from POCO.
  EXPECT_EQ(Count(added.status().message(), "attempt to write a readonly database"), 1u) << added.status().message();
  Msg m;
  m.channel_uuid = channel_.uuid;
  m.urn = "tel:+250788383383";
  EXPECT_EQ(WriteIncoming(**store, m, {}).status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(Bytes(path_), before);
  EXPECT_EQ((*store)->ListChannels()->size(), 1u);
}

TEST_F(SqliteStoreReadOnlyTest, ReadsCommitsStillInTheWal) {
  // A daemon has the store open: its latest commit is only in the WAL.
  SqliteStore writer(path_, clock_);
  AddChannel(writer, "2");
  ASSERT_TRUE(std::filesystem::exists(path_ + "-wal"));
  MakeReadOnlyForReader(dir_.path(), path_);
  const std::string file = Bytes(path_), wal = Bytes(path_ + "-wal");
  EXPECT_EQ(RunInChild([&] { return ChannelsSeenByReader(); }), 2);
  EXPECT_EQ(Bytes(path_), file);
  EXPECT_EQ(Bytes(path_ + "-wal"), wal);
}

TEST_F(SqliteStoreReadOnlyTest, ASnapshotReaderSeesEachNewCommit) {
  // Without a WAL the reader reads the file as a snapshot; a follower
  // (courier-ctl events --follow) must still see what is committed later.
  MakeReadOnlyForReader(dir_.path(), path_);
  int counted[2], go[2];
  ASSERT_EQ(::pipe(counted), 0);
  ASSERT_EQ(::pipe(go), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!BecomeReader()) ::_exit(101);
    auto store = OpenReadOnly();
    if (!store.ok()) ::_exit(102);
    auto first = (*store)->ListChannels();
    char n = first.ok() ? static_cast<char>(first->size()) : 0;
    char wait = 0;
    if (::write(counted[1], &n, 1) != 1 || ::read(go[0], &wait, 1) != 1) ::_exit(103);
    auto second = (*store)->ListChannels();
    ::_exit(second.ok() ? static_cast<int>(second->size()) : 104);
  }
  char first = 0;
  ASSERT_EQ(::read(counted[0], &first, 1), 1);
  EXPECT_EQ(first, 1);
  // The owner commits and closes (checkpoint, WAL removed) meanwhile.
  TearDown();
  {
    SqliteStore writer(path_, clock_);
    AddChannel(writer, "2");
  }
  MakeReadOnlyForReader(dir_.path(), path_);
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 2);
  for (int fd : {counted[0], counted[1], go[0], go[1]}) ::close(fd);
}

TEST_F(SqliteStoreReadOnlyTest, LeavesNoFilesThatWouldKeepAWriterOut) {
  // A file made read-only in a directory the reader may write: a WAL made
  // now would be 0444 too and outlive the reader, so the owner could not
  // write again after making the file writable. The reader makes none.
  ASSERT_EQ(::chmod(path_.c_str(), 0444), 0);
  {
    auto store = OpenReadOnly();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->ListChannels()->size(), 1u);
  }
  EXPECT_EQ(FileNames(dir_.path()), std::set<std::string>{"courier.db"});
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  SqliteStore writer(path_, clock_);
  AddChannel(writer, "2");
  EXPECT_EQ(writer.ListChannels()->size(), 2u);
}

}  // namespace

// --- Background checkpoints ------------------------------------------------------

TEST_F(SqliteStoreTest, HousekeepingCheckpointsOffTheWritersConnection) {
  store_->HousekeepInBackground();
  Channel ch = AddChannel("EX");
  const auto db_size = [&] { return std::filesystem::file_size(db_path_); };
  const auto before = db_size();
  // Enough data for the WAL to pass 1000 pages (4 MiB).
  WriteKilobyteMsgs(ch, 120, 40);
  // The writer's commits never checkpoint now; only the background thread
  // copies the WAL into the database file, which therefore grows.
  bool grew = false;
  for (int i = 0; i < 200 && !grew; ++i) {
    grew = db_size() > before + 2 * 1024 * 1024;
    if (!grew) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(grew) << "db file " << db_size() << " bytes, was " << before;
  // And everything is there.
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM msgs"), 4800);
}

TEST_F(SqliteStoreTest, WithoutHousekeepingTheWriterStillCheckpoints) {
  Channel ch = AddChannel("EX");
  const auto before = std::filesystem::file_size(db_path_);
  WriteKilobyteMsgs(ch, 120, 40);
  EXPECT_GT(std::filesystem::file_size(db_path_), before + 2 * 1024 * 1024);
}

// A WAL-mode database with one table at `path`, whose connection never
// checkpoints by itself: only the WalCheckpointer under test copies the WAL.
sqlite3* OpenWalTable(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE t (x BLOB)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_wal_autocheckpoint(db, 0);
  return db;
}

// Past restart_pages the checkpoint is a RESTART: it waits for a reader
// still on an old snapshot, and afterwards the writer starts the WAL over
// from its beginning (its next commit is frame 1, not frame 301).
TEST(WalCheckpointerTest, ALongWalIsRestarted) {
  ScratchDir dir;
  const std::string path = dir.path() + "/wal.db";
  sqlite3* db = OpenWalTable(path);
  int last_wal_pages = 0;
  sqlite3_wal_hook(
      db,
      [](void* out, sqlite3*, const char*, int pages) {
        *static_cast<int*>(out) = pages;
        return SQLITE_OK;
      },
      &last_wal_pages);
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO t VALUES (zeroblob(4000))", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ASSERT_GE(last_wal_pages, 300);
  // A reader in the middle of a read transaction: it uses the WAL.
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &reader), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(reader, "BEGIN; SELECT COUNT(*) FROM t", nullptr, nullptr, nullptr), SQLITE_OK);

  WalCheckpointer checkpointer(path, 100, 250);
  ASSERT_TRUE(checkpointer.Start().ok());
  checkpointer.Notify(last_wal_pages);  // past 250: RESTART, which waits for the reader
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(checkpointer.checkpoints(), 0) << "the RESTART should still be waiting for the reader";
  ASSERT_EQ(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  for (int i = 0; i < 300 && checkpointer.checkpoints() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(checkpointer.checkpoints(), 1);
  EXPECT_EQ(checkpointer.restarts(), 1);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO t VALUES (zeroblob(4000))", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_LT(last_wal_pages, 10) << "the WAL did not start over";
  sqlite3_close(reader);
  sqlite3_close(db);
}

TEST(WalCheckpointerTest, CopiesTheWalIntoTheDatabaseWhenNotified) {
  ScratchDir dir;
  const std::string path = dir.path() + "/wal.db";
  sqlite3* db = OpenWalTable(path);
  WalCheckpointer checkpointer(path, 100);
  ASSERT_TRUE(checkpointer.Start().ok());
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO t VALUES (zeroblob(4000))", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  const auto before = std::filesystem::file_size(path);
  EXPECT_LT(before, 100u * 1024);  // everything is still in the WAL
  checkpointer.Notify(50);          // under the threshold: nothing happens
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(checkpointer.checkpoints(), 0);
  checkpointer.Notify(300);
  for (int i = 0; i < 200 && checkpointer.checkpoints() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(checkpointer.checkpoints(), 1);
  EXPECT_GT(std::filesystem::file_size(path), before + 1000u * 1024);
  sqlite3_close(db);
}
