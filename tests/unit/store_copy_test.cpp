// CopySqliteToPostgres (store/store_copy.h) on a real PostgreSQL: every
// table row for row with its ids, sequences moved past the copied ids (and
// events' past SQLite's high-water mark), all or nothing, a non-empty
// target refused, no password in any error.
#include "store/store_copy.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "postgres_server.h"
#include "postgres_suite.h"
#include "store/schema.h"
#include "store/sqlite_store.h"
#include "store_test_helpers.h"
#include "temp_dir.h"

namespace courier {
namespace {

using testing::PostgresServer;
using testing::ScratchDir;
using Rows = std::vector<std::vector<std::string>>;
using PgConn = std::unique_ptr<PGconn, decltype(&::PQfinish)>;

const char* const kTables[] = {"channels", "contacts",    "contact_urns", "msgs",           "attempts",
                               "channel_logs", "events", "hooks",        "api_tokens",     "api_idempotency"};

// Every row of a SQLite table as text, NULL as "<null>", by key.
Rows SqliteRows(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  Rows rows;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db);
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = "SELECT * FROM " + table + " ORDER BY 1, 2";
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
      row.push_back(text == nullptr ? "<null>" : std::string(text, sqlite3_column_bytes(stmt, c)));
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

// The same from PostgreSQL, booleans read as SQLite stores them (1/0).
Rows PgRows(PGconn* conn, const std::string& sql) {
  Rows rows;
  PGresult* res = ::PQexec(conn, sql.c_str());
  if (::PQresultStatus(res) != PGRES_TUPLES_OK) {
    ADD_FAILURE() << sql << ": " << ::PQerrorMessage(conn);
  } else {
    for (int r = 0; r < ::PQntuples(res); ++r) {
      std::vector<std::string> row;
      for (int c = 0; c < ::PQnfields(res); ++c) {
        std::string value = ::PQgetisnull(res, r, c) ? "<null>" : ::PQgetvalue(res, r, c);
        if (::PQftype(res, c) == 16 /* BOOLOID */ && value != "<null>") value = value == "t" ? "1" : "0";
        row.push_back(value);
      }
      rows.push_back(std::move(row));
    }
  }
  ::PQclear(res);
  return rows;
}

class StoreCopyTest : public courier::testing::PostgresSuite {
 protected:
  void SetUp() override {
    PostgresSuite::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    conn_.reset(::PQconnectdb(uri().c_str()));
    ASSERT_EQ(::PQstatus(conn_.get()), CONNECTION_OK) << ::PQerrorMessage(conn_.get());
    path_ = dir_.path() + "/courier.db";
    store_ = std::make_unique<SqliteStore>(path_, clock_);
    ASSERT_TRUE(store_->Open().ok());
    ASSERT_TRUE(store_->Migrate().ok());
  }

  // A store with a row in every table, text that COPY must escape, NULLs,
  // booleans both ways, and an events high-water mark above its last row.
  void Fill() {
    Channel ch;
    ch.type = "EX";
    ch.address = "+250788000001";
    ch.country = "RW";
    ch.schemes = {"tel"};
    ch.config = {{"send_url", "http://127.0.0.1:1/send"}, {"body", "a\\tb"}};
    auto added = store_->AddChannel(ch);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    ch = *added;
    Channel gone = ch;
    gone.uuid.clear();
    auto removed = store_->AddChannel(gone);
    ASSERT_TRUE(removed.ok());
    ASSERT_TRUE(store_->RemoveChannel(removed->uuid).ok());

    for (int i = 0; i < 30; ++i) {
      Msg in;
      in.channel_uuid = ch.uuid;
      in.urn = "tel:+25078812" + std::to_string(3000 + i);
      in.text = "line one\nline\ttwo \\ three\r" + std::to_string(i) + " ✓";
      in.external_id = i % 2 ? "ext-" + std::to_string(i) : "";
      ChannelLog log;
      log.channel_uuid = ch.uuid;
      log.description = "Message Received";
      log.method = "POST";
      log.url = "http://127.0.0.1/c/ex/" + ch.uuid + "/receive";
      log.request = "POST /receive\r\n\r\ntext=" + in.text;
      log.response = "{\"ok\":true}";
      log.status_code = 200;
      log.error = i == 3 ? "slow" : "";
      auto r = testing::WriteIncoming(*store_, in, {log});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    std::vector<Msg> out;
    for (int i = 0; i < 5; ++i) {
      Msg m;
      m.channel_uuid = ch.uuid;
      m.direction = Direction::kOut;
      m.urn = "tel:+250788123000";
      m.text = "reply " + std::to_string(i);
      m.quick_replies = {"Yes", "No"};
      out.push_back(m);
    }
    ASSERT_TRUE(store_->QueueOutgoing(out).ok());
    ClaimRequest claim;
    claim.worker = "host1:42";
    claim.now = clock_.Now();
    claim.limit = 2;
    auto claimed = store_->ClaimQueued(claim);
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->size(), 2u);
    StatusUpdate sent;
    sent.channel_uuid = ch.uuid;
    sent.msg_id = (*claimed)[0].id;
    sent.status = MsgStatus::kWired;
    sent.new_external_id = "provider-1";
    ASSERT_TRUE(store_->WriteStatus(sent).ok());
    ASSERT_TRUE(store_->SetContactStopped("tel:+250788123001", true, ch.uuid).ok());

    Hook hook;
    hook.url = "http://127.0.0.1:1/hook";
    hook.secret = "s3cret";
    hook.topics = {"msg.received"};
    hook.cursor = 7;
    auto h = store_->AddHook(hook);
    ASSERT_TRUE(h.ok());
    ASSERT_TRUE(store_->SetHookPaused(h->id, true, "maintenance").ok());
    ApiToken token;
    token.name = "crm";
    token.token_hash = "ab12";
    token.scopes = {"send", "read"};
    auto t = store_->AddApiToken(token);
    ASSERT_TRUE(t.ok());
    Msg keyed;
    keyed.channel_uuid = ch.uuid;
    keyed.direction = Direction::kOut;
    keyed.urn = "tel:+250788123002";
    keyed.text = "keyed";
    ASSERT_TRUE(testing::QueueOutgoingOnce(*store_, t->id, "key-1", "hash-1", {keyed}).ok());

    // The newest event removed: SQLite's AUTOINCREMENT still remembers it.
    auto last = store_->LastEventSeq();
    ASSERT_TRUE(last.ok());
    high_water_ = *last;
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, ("DELETE FROM events WHERE seq = " + std::to_string(high_water_)).c_str(), nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }

  std::string PgOne(const std::string& sql) {
    Rows rows = PgRows(conn_.get(), sql);
    return rows.empty() || rows[0].empty() ? "" : rows[0][0];
  }

  ScratchDir dir_;
  ManualClock clock_{1700000000000000};
  std::string path_;
  PgConn conn_{nullptr, &::PQfinish};
  std::unique_ptr<SqliteStore> store_;
  int64_t high_water_ = 0;
};


TEST_F(StoreCopyTest, CopiesEveryTableRowForRowAndMovesTheSequences) {
  Fill();
  std::vector<CopyProgress> progress;
  auto copied = CopySqliteToPostgres(path_, uri(), [&](const CopyProgress& at) { progress.push_back(at); });
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();

  std::map<std::string, int64_t> counts;
  for (const auto& t : *copied) counts[t.table] = t.rows;
  for (const char* table : kTables) {
    SCOPED_TRACE(table);
    const Rows source = SqliteRows(path_, table);
    EXPECT_FALSE(source.empty());
    EXPECT_EQ(counts[table], static_cast<int64_t>(source.size()));
    EXPECT_EQ(PgRows(conn_.get(), std::string("SELECT * FROM ") + table + " ORDER BY 1, 2"), source);
  }
  // Each table reported done, with its total.
  for (const char* table : kTables) {
    bool done = false;
    for (const auto& at : progress) done = done || (at.table == table && at.copied == at.total);
    EXPECT_TRUE(done) << table;
  }

  // New rows carry on after the copied ids; events after the highest seq
  // SQLite ever gave, though its row is gone.
  EXPECT_EQ(PgOne("INSERT INTO events (topic, payload, created_on) VALUES ('t', '{}', 1) RETURNING seq"),
            std::to_string(high_water_ + 1));
  EXPECT_EQ(PgOne("INSERT INTO channels (uuid, channel_type, created_on, modified_on) "
                  "VALUES ('new', 'EX', 1, 1) RETURNING id"),
            "3");
}

TEST_F(StoreCopyTest, RefusesATargetThatHoldsRowsAndLeavesItAsItWas) {
  Fill();
  ASSERT_TRUE(CopySqliteToPostgres(path_, uri()).ok());
  const Rows msgs = PgRows(conn_.get(), "SELECT * FROM msgs ORDER BY id");

  auto again = CopySqliteToPostgres(path_, uri());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Status::Code::kConflict);
  EXPECT_EQ(again.status().message(),
            "the target store is not empty (table channels has rows): copy into a new database");
  EXPECT_EQ(PgRows(conn_.get(), "SELECT * FROM msgs ORDER BY id"), msgs);
}

// A value PostgreSQL refuses (SQLite kept text in a BIGINT column): the
// table is named, and nothing of the copy stays.
TEST_F(StoreCopyTest, ARowTheTargetRefusesUndoesTheWholeCopy) {
  Fill();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE attempts SET started_on = 'yesterday'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  auto copied = CopySqliteToPostgres(path_, uri());
  ASSERT_FALSE(copied.ok());
  EXPECT_TRUE(copied.status().IsInvalidArgument()) << copied.status().ToString();
  EXPECT_EQ(copied.status().message().rfind("copy attempts: ", 0), 0u) << copied.status().message();
  for (const char* table : kTables) EXPECT_EQ(PgOne(std::string("SELECT count(*) FROM ") + table), "0") << table;
  // The schema stays made: the next try needs no init.
  EXPECT_EQ(PgOne("SELECT MAX(version) FROM schema_version"), std::to_string(schema::CurrentVersion()));
}

TEST_F(StoreCopyTest, SaysWhatIsWrongWithoutThePassword) {
  Fill();
  auto unreachable = CopySqliteToPostgres(path_, "postgresql://courier:hunter2@127.0.0.1:1/courier?connect_timeout=2");
  ASSERT_FALSE(unreachable.ok());
  EXPECT_TRUE(unreachable.status().IsUnavailable());
  EXPECT_EQ(unreachable.status().message().rfind("connect to the target: ", 0), 0u) << unreachable.status().message();
  EXPECT_EQ(unreachable.status().message().find("hunter2"), std::string::npos);

  auto no_source = CopySqliteToPostgres(dir_.path() + "/none.db", uri());
  ASSERT_FALSE(no_source.ok());
  EXPECT_TRUE(no_source.status().IsUnavailable()) << no_source.status().ToString();
}

}  // namespace
}  // namespace courier
