// pg_driver_bench: libpq against POCO Data's PostgreSQL connector on the
// two operations that dominate courier's use of its store (issue 19 asks
// for the driver to be chosen by measurement):
//
//   intake  INSERT of one msg row (16 bound values incl. text and JSONB;
//           unique indexes on uuid and on (channel_id, external_id)), in
//           transactions of 1 and of 64 rows, synchronous_commit on;
//   claim   SELECT ... FOR UPDATE SKIP LOCKED LIMIT n and the UPDATE of
//           the claimed rows, two claimers racing over one queue; every
//           run checks that each msg was claimed exactly once;
//   select  by id: one single-row SELECT by primary key, autocommit, the
//           bare round trip of a prepared statement.
//
// Driver "pgstmt" is courier's own engine (store/pg_statement.h, `?`
// SQL through PgConnection's statement cache) on the intake and the
// select: what it adds to bare libpq calls, and what Insert()'s
// RETURNING id costs against a Run() of the same INSERT.
//
// Each case runs on a fresh database of a private server
// (tests/support/postgres_server.h: fsync and synchronous_commit on) or of
// --uri. Printed per case: rows/s, and CPU microseconds per row of this
// process (the driver) and of all PostgreSQL processes (the server).
// The median of --repeat runs (by rows/s) is shown. See bench/README.md.
//
// Exit status: 0 when every case ran and every check held, 1 otherwise,
// 64 usage, 69 no PostgreSQL.
#include <libpq-fe.h>
#include <sys/resource.h>
#include <unistd.h>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "postgres_server.h"
#include "store/pg_connection.h"
#include "store/sql_statement.h"

namespace {

using Poco::Data::Keywords::into;
using Poco::Data::Keywords::use;

constexpr const char* kSchema = R"(
CREATE TABLE msgs (
  id BIGSERIAL PRIMARY KEY,
  uuid TEXT NOT NULL,
  channel_id BIGINT NOT NULL,
  contact_id BIGINT,
  contact_urn_id BIGINT,
  direction CHAR(1) NOT NULL,
  status CHAR(1) NOT NULL,
  urn TEXT NOT NULL,
  text TEXT NOT NULL DEFAULT '',
  attachments JSONB NOT NULL DEFAULT '[]',
  metadata JSONB,
  external_id TEXT,
  contact_name TEXT NOT NULL DEFAULT '',
  priority INTEGER NOT NULL DEFAULT 1,
  error_count INTEGER NOT NULL DEFAULT 0,
  next_attempt_on BIGINT,
  claimed_by TEXT,
  claimed_on BIGINT,
  created_on BIGINT NOT NULL,
  modified_on BIGINT NOT NULL,
  received_on BIGINT
);
CREATE UNIQUE INDEX ux_msgs_uuid ON msgs (uuid);
CREATE UNIQUE INDEX ux_msgs_external ON msgs (channel_id, external_id);
CREATE INDEX idx_msgs_queue ON msgs (priority DESC, id) WHERE status = 'Q' AND direction = 'O';
)";

constexpr const char* kInsertSql =
    "INSERT INTO msgs (uuid, channel_id, contact_id, contact_urn_id, direction, status, urn, text, "
    "attachments, metadata, external_id, contact_name, priority, created_on, modified_on, received_on) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
constexpr int kInsertParams = 16;

// One statement: the claim and its UPDATE in one round trip, autocommit.
constexpr const char* kClaimOneSql =
    "UPDATE msgs SET status = 'W', claimed_by = $2, claimed_on = $3 WHERE id IN ("
    "SELECT id FROM msgs WHERE status = 'Q' AND direction = 'O' "
    "ORDER BY priority DESC, id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id";
// Two statements in a transaction: what a claim that must look at the rows
// before it takes them (max_workers, tps) does.
constexpr const char* kClaimSelectSql =
    "SELECT id FROM msgs WHERE status = 'Q' AND direction = 'O' "
    "ORDER BY priority DESC, id LIMIT $1 FOR UPDATE SKIP LOCKED";
constexpr const char* kClaimUpdateSql =
    "UPDATE msgs SET status = 'W', claimed_by = $2, claimed_on = $3 WHERE id = ANY($1::bigint[])";

struct Options {
  std::string uri;
  int rows_tx1 = 1000;
  int rows_tx64 = 32000;
  int claim_msgs = 20000;
  int claim_batch = 32;
  int repeat = 3;
  std::string only;  // substring of case names
};

// ---- measurement --------------------------------------------------------

double ProcessCpuUs() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec * 1e6 + usage.ru_utime.tv_usec + usage.ru_stime.tv_sec * 1e6 + usage.ru_stime.tv_usec;
}

// utime + stime of `pid` and its children (the postmaster's backends,
// WAL writer, checkpointer): PostgreSQL's CPU as a whole.
double TreeCpuUs(pid_t root) {
  static const double kTick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double ticks = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    std::vector<std::string> f;
    while (fields >> field && f.size() < 15) f.push_back(field);
    if (f.size() < 15) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == root) {
      // utime, stime, and those of the children it reaped: backends of
      // connections closed during the run.
      ticks += std::stod(f[11]) + std::stod(f[12]) + std::stod(f[13]) + std::stod(f[14]);
    } else if (std::stol(f[1]) == root) {
      ticks += std::stod(f[11]) + std::stod(f[12]);
    }
  }
  return ticks / kTick * 1e6;
}

struct Figures {
  long rows = 0;
  double seconds = 0;
  double client_us = 0;
  double server_us = 0;
  double rows_per_s() const { return rows / seconds; }
};

// Server CPU needs the postmaster's pid; 0 (an outside --uri) leaves it out.
class Meter {
 public:
  explicit Meter(pid_t postmaster) : postmaster_(postmaster) {
    start_ = std::chrono::steady_clock::now();
    client_ = ProcessCpuUs();
    server_ = postmaster_ ? TreeCpuUs(postmaster_) : 0;
  }
  Figures Stop(long rows) const {
    Figures f;
    f.rows = rows;
    f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    f.client_us = ProcessCpuUs() - client_;
    f.server_us = postmaster_ ? TreeCpuUs(postmaster_) - server_ : 0;
    return f;
  }

 private:
  pid_t postmaster_;
  std::chrono::steady_clock::time_point start_;
  double client_;
  double server_;
};

// ---- the msgs written ---------------------------------------------------

struct MsgRow {
  std::string uuid;
  long long channel_id;
  long long contact_id;
  long long contact_urn_id;
  std::string direction = "I";
  std::string status = "P";
  std::string urn;
  std::string text;
  std::string attachments;
  std::string metadata;
  std::string external_id;
  std::string contact_name;
  int priority = 1;
  long long created_on;
  long long modified_on;
  long long received_on;
};

std::string RandomUuid(std::mt19937_64& rng) {
  static const char* kHex = "0123456789abcdef";
  std::string s(36, '-');
  for (int i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    s[i] = kHex[rng() & 15];
  }
  s[14] = '4';
  return s;
}

// A webhook's msg as a handler makes it: distinct uuid and provider id.
MsgRow MakeRow(long i, std::mt19937_64& rng) {
  MsgRow r;
  r.uuid = RandomUuid(rng);
  r.channel_id = 1 + i % 20;
  r.contact_id = 1000 + i % 5000;
  r.contact_urn_id = 2000 + i % 5000;
  r.urn = "tel:+25078" + std::to_string(8000000 + i % 1000000);
  r.text = "Hello from the benchmark, msg " + std::to_string(i) + ": please confirm the delivery window";
  r.attachments = i % 10 == 0 ? R"(["image/jpeg:https://example.com/media/photo.jpg"])" : "[]";
  r.metadata = R"({"provider":"kannel","ts":"2026-12-05T10:00:00Z","sender":"+250788000123"})";
  r.external_id = "ext-" + r.uuid.substr(0, 8) + "-" + std::to_string(i);
  r.contact_name = "Bench Contact " + std::to_string(i % 5000);
  r.created_on = r.modified_on = r.received_on = 1764928800000LL + i;
  return r;
}

// ---- libpq --------------------------------------------------------------

class PgError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

PGconn* PqConnect(const std::string& uri) {
  PGconn* conn = ::PQconnectdb(uri.c_str());
  if (::PQstatus(conn) != CONNECTION_OK) {
    std::string error = ::PQerrorMessage(conn);
    ::PQfinish(conn);
    throw PgError("connect: " + error);
  }
  return conn;
}

void PqCheck(PGconn* conn, PGresult* res, const char* what) {
  const ExecStatusType st = ::PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string error = std::string(what) + ": " + ::PQerrorMessage(conn);
    ::PQclear(res);
    throw PgError(error);
  }
}

void PqExec(PGconn* conn, const char* sql) {
  PGresult* res = ::PQexec(conn, sql);
  PqCheck(conn, res, sql);
  ::PQclear(res);
}

void PqPrepare(PGconn* conn, const char* name, const char* sql) {
  PGresult* res = ::PQprepare(conn, name, sql, 0, nullptr);
  PqCheck(conn, res, name);
  ::PQclear(res);
}

struct InsertParams {
  std::string channel, contact, contact_urn, priority, created;
  const char* values[kInsertParams];
  explicit InsertParams(const MsgRow& r)
      : channel(std::to_string(r.channel_id)),
        contact(std::to_string(r.contact_id)),
        contact_urn(std::to_string(r.contact_urn_id)),
        priority(std::to_string(r.priority)),
        created(std::to_string(r.created_on)) {
    const char* v[kInsertParams] = {r.uuid.c_str(),        channel.c_str(),         contact.c_str(),
                                    contact_urn.c_str(),   r.direction.c_str(),     r.status.c_str(),
                                    r.urn.c_str(),         r.text.c_str(),          r.attachments.c_str(),
                                    r.metadata.c_str(),    r.external_id.c_str(),   r.contact_name.c_str(),
                                    priority.c_str(),      created.c_str(),         created.c_str(),
                                    created.c_str()};
    std::copy(v, v + kInsertParams, values);
  }
};

// tx of `batch` rows; pipeline: the whole transaction in one round trip.
Figures PqIntake(const std::string& uri, pid_t postmaster, int rows, int batch, bool pipeline) {
  PGconn* conn = PqConnect(uri);
  std::unique_ptr<PGconn, decltype(&::PQfinish)> guard(conn, &::PQfinish);
  PqPrepare(conn, "insert", kInsertSql);
  std::mt19937_64 rng(42);
  std::vector<MsgRow> all;
  for (long i = 0; i < rows; ++i) all.push_back(MakeRow(i, rng));
  if (pipeline && ::PQenterPipelineMode(conn) != 1) throw PgError("PQenterPipelineMode failed");

  Meter meter(postmaster);
  for (int first = 0; first < rows; first += batch) {
    const int last = std::min(rows, first + batch);
    if (pipeline) {
      const bool explicit_tx = last - first > 1;
      if (explicit_tx && !::PQsendQueryParams(conn, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0)) {
        throw PgError(::PQerrorMessage(conn));
      }
      for (int i = first; i < last; ++i) {
        InsertParams p(all[i]);
        if (!::PQsendQueryPrepared(conn, "insert", kInsertParams, p.values, nullptr, nullptr, 0)) {
          throw PgError(::PQerrorMessage(conn));
        }
      }
      if (explicit_tx && !::PQsendQueryParams(conn, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0)) {
        throw PgError(::PQerrorMessage(conn));
      }
      if (!::PQpipelineSync(conn)) throw PgError(::PQerrorMessage(conn));
      const int results = (last - first) + (explicit_tx ? 2 : 0);
      for (int n = 0; n < results; ++n) {
        PGresult* res = ::PQgetResult(conn);
        PqCheck(conn, res, "pipelined insert");
        ::PQclear(res);
        if (::PQgetResult(conn) != nullptr) throw PgError("pipeline: more than one result for a query");
      }
      PGresult* sync = ::PQgetResult(conn);
      if (::PQresultStatus(sync) != PGRES_PIPELINE_SYNC) throw PgError("pipeline: no sync");
      ::PQclear(sync);
    } else {
      if (last - first > 1) PqExec(conn, "BEGIN");
      for (int i = first; i < last; ++i) {
        InsertParams p(all[i]);
        PGresult* res = ::PQexecPrepared(conn, "insert", kInsertParams, p.values, nullptr, nullptr, 0);
        PqCheck(conn, res, "insert");
        ::PQclear(res);
      }
      if (last - first > 1) PqExec(conn, "COMMIT");
    }
  }
  Figures f = meter.Stop(rows);
  if (pipeline) ::PQexitPipelineMode(conn);
  return f;
}

// One claimer's loop until the queue is empty; returns the ids it took.
std::vector<long long> PqClaimLoop(const std::string& uri, const std::string& me, int batch, bool two_statements,
                                   bool pipeline) {
  PGconn* conn = PqConnect(uri);
  std::unique_ptr<PGconn, decltype(&::PQfinish)> guard(conn, &::PQfinish);
  PqPrepare(conn, "claim_one", kClaimOneSql);
  PqPrepare(conn, "claim_select", kClaimSelectSql);
  PqPrepare(conn, "claim_update", kClaimUpdateSql);
  PqPrepare(conn, "begin", "BEGIN");
  PqPrepare(conn, "commit", "COMMIT");
  if (pipeline && ::PQenterPipelineMode(conn) != 1) throw PgError("PQenterPipelineMode failed");
  const std::string limit = std::to_string(batch);
  std::vector<long long> mine;
  // Reads the results of `count` queries and the sync that ends them;
  // the ids are in the last TUPLES_OK result.
  auto read_pipeline = [&](int count, std::vector<long long>* ids) {
    for (int n = 0; n < count; ++n) {
      PGresult* res = ::PQgetResult(conn);
      PqCheck(conn, res, "pipelined claim");
      if (ids != nullptr && ::PQresultStatus(res) == PGRES_TUPLES_OK) {
        for (int r = 0; r < ::PQntuples(res); ++r) ids->push_back(std::atoll(::PQgetvalue(res, r, 0)));
      }
      ::PQclear(res);
      ::PQgetResult(conn);  // the NULL that ends each query's results
    }
    PGresult* sync = ::PQgetResult(conn);
    if (::PQresultStatus(sync) != PGRES_PIPELINE_SYNC) throw PgError("pipeline: no sync");
    ::PQclear(sync);
  };
  for (;;) {
    const std::string now = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
    std::vector<long long> ids;
    if (!two_statements) {
      const char* values[3] = {limit.c_str(), me.c_str(), now.c_str()};
      PGresult* res = ::PQexecPrepared(conn, "claim_one", 3, values, nullptr, nullptr, 0);
      PqCheck(conn, res, "claim");
      for (int r = 0; r < ::PQntuples(res); ++r) ids.push_back(std::atoll(::PQgetvalue(res, r, 0)));
      ::PQclear(res);
    } else {
      const char* select_values[1] = {limit.c_str()};
      if (pipeline) {
        ::PQsendQueryPrepared(conn, "begin", 0, nullptr, nullptr, nullptr, 0);
        ::PQsendQueryPrepared(conn, "claim_select", 1, select_values, nullptr, nullptr, 0);
        ::PQpipelineSync(conn);
        read_pipeline(2, &ids);
      } else {
        PGresult* res = ::PQexecPrepared(conn, "begin", 0, nullptr, nullptr, nullptr, 0);
        PqCheck(conn, res, "begin");
        ::PQclear(res);
        res = ::PQexecPrepared(conn, "claim_select", 1, select_values, nullptr, nullptr, 0);
        PqCheck(conn, res, "claim select");
        for (int r = 0; r < ::PQntuples(res); ++r) ids.push_back(std::atoll(::PQgetvalue(res, r, 0)));
        ::PQclear(res);
      }
      std::string array = "{";
      for (size_t k = 0; k < ids.size(); ++k) array += (k ? "," : "") + std::to_string(ids[k]);
      array += "}";
      const char* update_values[3] = {array.c_str(), me.c_str(), now.c_str()};
      if (pipeline) {
        ::PQsendQueryPrepared(conn, "claim_update", 3, update_values, nullptr, nullptr, 0);
        ::PQsendQueryPrepared(conn, "commit", 0, nullptr, nullptr, nullptr, 0);
        ::PQpipelineSync(conn);
        read_pipeline(2, nullptr);
      } else {
        PGresult* res = ::PQexecPrepared(conn, "claim_update", 3, update_values, nullptr, nullptr, 0);
        PqCheck(conn, res, "claim update");
        ::PQclear(res);
        res = ::PQexecPrepared(conn, "commit", 0, nullptr, nullptr, nullptr, 0);
        PqCheck(conn, res, "commit");
        ::PQclear(res);
      }
    }
    if (ids.empty()) break;
    mine.insert(mine.end(), ids.begin(), ids.end());
  }
  return mine;
}

// ---- POCO Data ----------------------------------------------------------

// POCO's connector parses its connection string itself and takes only the
// "key=value ..." form, not the libpq URI courier's --db takes:
// "postgresql://user@host:port/dbname" (no password, no query here).
std::string PocoConnectionString(const std::string& uri) {
  const std::string scheme = "postgresql://";
  std::string rest = uri.substr(scheme.size());
  const size_t at = rest.find('@');
  const std::string user = rest.substr(0, at);
  rest = rest.substr(at + 1);
  const size_t slash = rest.find('/');
  const std::string host_port = rest.substr(0, slash);
  const size_t colon = host_port.rfind(':');
  return "host=" + host_port.substr(0, colon) + " port=" + host_port.substr(colon + 1) + " user=" + user +
         " dbname=" + rest.substr(slash + 1);
}

Figures PocoIntake(const std::string& uri, pid_t postmaster, int rows, int batch) {
  Poco::Data::Session session("PostgreSQL", PocoConnectionString(uri));
  std::mt19937_64 rng(42);
  std::vector<MsgRow> all;
  for (long i = 0; i < rows; ++i) all.push_back(MakeRow(i, rng));
  MsgRow r = all[0];
  Poco::Int64 channel = 0, contact = 0, contact_urn = 0, created = 0;
  // Bound by reference once; each execute() sends the current values.
  Poco::Data::Statement insert(session);
  insert << kInsertSql, use(r.uuid), use(channel), use(contact), use(contact_urn), use(r.direction), use(r.status),
      use(r.urn), use(r.text), use(r.attachments), use(r.metadata), use(r.external_id), use(r.contact_name),
      use(r.priority), use(created), use(created), use(created);

  Meter meter(postmaster);
  for (int first = 0; first < rows; first += batch) {
    const int last = std::min(rows, first + batch);
    if (last - first > 1) session.begin();
    for (int i = first; i < last; ++i) {
      r = all[i];
      channel = r.channel_id;
      contact = r.contact_id;
      contact_urn = r.contact_urn_id;
      created = r.created_on;
      insert.execute();
    }
    if (last - first > 1) session.commit();
  }
  return meter.Stop(rows);
}

std::vector<long long> PocoClaimLoop(const std::string& uri, const std::string& me, int batch, bool two_statements) {
  Poco::Data::Session session("PostgreSQL", PocoConnectionString(uri));
  int limit = batch;
  std::string owner = me;
  Poco::Int64 now = 0;
  std::vector<Poco::Int64> ids;
  std::string array;
  Poco::Data::Statement claim_one(session);
  claim_one << kClaimOneSql, into(ids), use(limit), use(owner), use(now);
  Poco::Data::Statement claim_select(session);
  claim_select << kClaimSelectSql, into(ids), use(limit);
  Poco::Data::Statement claim_update(session);
  claim_update << kClaimUpdateSql, use(array), use(owner), use(now);
  std::vector<long long> mine;
  for (;;) {
    now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
    ids.clear();
    if (!two_statements) {
      claim_one.execute();
    } else {
      session.begin();
      claim_select.execute();
      array = "{";
      for (size_t k = 0; k < ids.size(); ++k) array += (k ? "," : "") + std::to_string(ids[k]);
      array += "}";
      claim_update.execute();
      session.commit();
    }
    if (ids.empty()) break;
    mine.insert(mine.end(), ids.begin(), ids.end());
  }
  return mine;
}

// ---- cases --------------------------------------------------------------

using ClaimLoop = std::function<std::vector<long long>(const std::string& uri, const std::string& me)>;

// Fills the queue, races two claimers over it, checks exact counts.
Figures RunClaim(const std::string& uri, pid_t postmaster, int msgs, const ClaimLoop& loop, std::string* problem) {
  {
    PGconn* conn = PqConnect(uri);
    std::unique_ptr<PGconn, decltype(&::PQfinish)> guard(conn, &::PQfinish);
    PqExec(conn, ("INSERT INTO msgs (uuid, channel_id, direction, status, urn, text, external_id, priority, "
                  "created_on, modified_on) SELECT md5(g::text), 1 + g % 20, 'O', 'Q', 'tel:+250788' || g, "
                  "'queued msg ' || g, NULL, 1 + (g % 3 = 0)::int, g, g FROM generate_series(1, " +
                  std::to_string(msgs) + ") g")
                     .c_str());
    PqExec(conn, "VACUUM ANALYZE msgs");
  }
  std::vector<long long> claimed[2];
  std::string errors[2];
  Meter meter(postmaster);
  std::vector<std::thread> claimers;
  for (int c = 0; c < 2; ++c) {
    claimers.emplace_back([&, c] {
      try {
        claimed[c] = loop(uri, "sender-" + std::to_string(c));
      } catch (const Poco::Exception& e) {  // no exception leaves the thread
        errors[c] = e.displayText();
      } catch (const std::exception& e) {
        errors[c] = e.what();
      }
    });
  }
  for (auto& t : claimers) t.join();
  Figures f = meter.Stop(static_cast<long>(claimed[0].size() + claimed[1].size()));
  for (const auto& e : errors) {
    if (!e.empty()) *problem += "claimer failed: " + e + "; ";
  }
  std::set<long long> seen;
  size_t total = 0;
  for (const auto& ids : claimed) {
    total += ids.size();
    seen.insert(ids.begin(), ids.end());
  }
  if (seen.size() != total) *problem += std::to_string(total - seen.size()) + " msgs claimed twice; ";
  if (total != static_cast<size_t>(msgs)) {
    *problem += "claimed " + std::to_string(total) + " of " + std::to_string(msgs) + "; ";
  }
  PGconn* conn = PqConnect(uri);
  std::unique_ptr<PGconn, decltype(&::PQfinish)> guard(conn, &::PQfinish);
  PGresult* res = ::PQexec(conn,
                           "SELECT count(*) FILTER (WHERE claimed_by = 'sender-0'), "
                           "count(*) FILTER (WHERE claimed_by = 'sender-1'), count(*) FILTER (WHERE status = 'Q') "
                           "FROM msgs");
  PqCheck(conn, res, "claim check");
  const long in_db[3] = {std::atol(::PQgetvalue(res, 0, 0)), std::atol(::PQgetvalue(res, 0, 1)),
                         std::atol(::PQgetvalue(res, 0, 2))};
  ::PQclear(res);
  if (in_db[0] != static_cast<long>(claimed[0].size()) || in_db[1] != static_cast<long>(claimed[1].size()) ||
      in_db[2] != 0) {
    *problem += "store disagrees: sender-0 " + std::to_string(in_db[0]) + ", sender-1 " + std::to_string(in_db[1]) +
                ", still queued " + std::to_string(in_db[2]) + "; ";
  }
  if (claimed[0].empty() || claimed[1].empty()) *problem += "one claimer got nothing (no race); ";
  return f;
}

// ---- courier's engine (store/pg_statement.h) ---------------------------

// The intake INSERT as the store writes it (`?` parameters), through
// PgStatements: what the wrapper adds to a bare PQexecPrepared, and the
// cost of Insert()'s RETURNING id.
constexpr const char* kStmtInsertSql =
    "INSERT INTO msgs (uuid, channel_id, contact_id, contact_urn_id, direction, status, urn, text, "
    "attachments, metadata, external_id, contact_name, priority, created_on, modified_on, received_on) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

void BindRow(courier::SqlQuery& q, const MsgRow& r) {
  q.Bind(r.uuid).Bind(static_cast<int64_t>(r.channel_id)).Bind(static_cast<int64_t>(r.contact_id));
  q.Bind(static_cast<int64_t>(r.contact_urn_id)).Bind(r.direction).Bind(r.status).Bind(r.urn).Bind(r.text);
  q.Bind(r.attachments).Bind(r.metadata).Bind(r.external_id).Bind(r.contact_name).Bind(r.priority);
  q.Bind(static_cast<int64_t>(r.created_on)).Bind(static_cast<int64_t>(r.modified_on));
  q.Bind(static_cast<int64_t>(r.received_on));
}

std::unique_ptr<courier::PgConnection> StmtConnect(const std::string& uri) {
  auto connected = courier::PgConnection::Connect(uri, "pg_driver_bench");
  if (!connected.ok()) throw PgError(connected.status().ToString());
  return std::move(connected).value();
}

// tx of `batch` rows, each an Insert() (RETURNING id) or a Run().
Figures StmtIntake(const std::string& uri, pid_t postmaster, int rows, int batch, bool returning) {
  auto db = StmtConnect(uri);
  courier::SqlStatements& sql = db->statements();
  std::mt19937_64 rng(42);
  std::vector<MsgRow> all;
  for (long i = 0; i < rows; ++i) all.push_back(MakeRow(i, rng));
  Meter meter(postmaster);
  for (int first = 0; first < rows; first += batch) {
    const int last = std::min(rows, first + batch);
    if (last - first > 1) sql.Exec("BEGIN");
    for (int i = first; i < last; ++i) {
      auto q = sql(kStmtInsertSql);
      BindRow(q, all[i]);
      if (returning) {
        if (q.Insert() <= 0) throw PgError("Insert() returned no id");
      } else {
        q.Run();
      }
    }
    if (last - first > 1) sql.Exec("COMMIT");
  }
  return meter.Stop(rows);
}

// `lookups` single-row SELECTs by primary key over a table of `rows` msgs,
// autocommit (a read commits nothing): one round trip each. Through
// PgStatements, or bare libpq for comparison.
Figures SelectById(const std::string& uri, pid_t postmaster, int rows, int lookups, bool wrapper, std::string* problem) {
  PqIntake(uri, 0, rows, 1000, true);  // the table to read, not measured
  constexpr const char* kSelect = "SELECT uuid, text, priority FROM msgs WHERE id = ?";
  std::mt19937_64 rng(7);
  std::vector<long long> ids;
  for (int i = 0; i < lookups; ++i) ids.push_back(1 + static_cast<long long>(rng() % rows));
  long long found = 0;
  Figures f;
  if (wrapper) {
    auto db = StmtConnect(uri);
    Meter meter(postmaster);
    for (long long id : ids) {
      auto q = db->statements()(kSelect);
      q.Bind(static_cast<int64_t>(id));
      if (q.Step() && !q.Text(0).empty() && q.Int(2) == 1) ++found;
    }
    f = meter.Stop(lookups);
  } else {
    PGconn* conn = PqConnect(uri);
    std::unique_ptr<PGconn, decltype(&::PQfinish)> guard(conn, &::PQfinish);
    PqPrepare(conn, "select", "SELECT uuid, text, priority FROM msgs WHERE id = $1");
    Meter meter(postmaster);
    for (long long id : ids) {
      const std::string text = std::to_string(id);
      const char* values[1] = {text.c_str()};
      PGresult* res = ::PQexecPrepared(conn, "select", 1, values, nullptr, nullptr, 0);
      PqCheck(conn, res, "select");
      if (::PQntuples(res) == 1 && ::PQgetlength(res, 0, 0) > 0 && std::atoi(::PQgetvalue(res, 0, 2)) == 1) ++found;
      ::PQclear(res);
    }
    f = meter.Stop(lookups);
  }
  if (found != lookups) *problem += "found " + std::to_string(found) + " of " + std::to_string(lookups) + " rows; ";
  return f;
}

long CountRows(const std::string& uri) {
  PGconn* conn = PqConnect(uri);
  std::unique_ptr<PGconn, decltype(&::PQfinish)> guard(conn, &::PQfinish);
  PGresult* res = ::PQexec(conn, "SELECT count(*) FROM msgs");
  PqCheck(conn, res, "count");
  long n = std::atol(::PQgetvalue(res, 0, 0));
  ::PQclear(res);
  return n;
}

struct Case {
  std::string driver;
  std::string name;
  std::function<Figures(const std::string& uri, pid_t postmaster, std::string* problem)> run;
};

int Usage() {
  std::fprintf(stderr,
               "usage: pg_driver_bench [--uri postgresql://...] [--rows-tx1 N] [--rows-tx64 N] [--claim-msgs N]\n"
               "                       [--claim-batch N] [--repeat N] [--only SUBSTRING]\n");
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return Usage();
    const std::string value = argv[++i];
    try {
      if (arg == "--uri") opt.uri = value;
      else if (arg == "--rows-tx1") opt.rows_tx1 = std::stoi(value);
      else if (arg == "--rows-tx64") opt.rows_tx64 = std::stoi(value);
      else if (arg == "--claim-msgs") opt.claim_msgs = std::stoi(value);
      else if (arg == "--claim-batch") opt.claim_batch = std::stoi(value);
      else if (arg == "--repeat") opt.repeat = std::stoi(value);
      else if (arg == "--only") opt.only = value;
      else return Usage();
    } catch (const std::exception&) {
      return Usage();
    }
  }
  Poco::Data::PostgreSQL::Connector::registerConnector();

  std::unique_ptr<courier::testing::PostgresServer> server;
  pid_t postmaster = 0;
  if (opt.uri.empty()) {
    auto made = courier::testing::PostgresServer::Create();
    if (!made.ok()) {
      std::fprintf(stderr, "pg_driver_bench: %s\n", made.status().ToString().c_str());
      return 69;
    }
    server = std::move(made).value();
    postmaster = server->PostmasterPid();
  }
  int databases = 0;
  // A fresh database with the schema for each run.
  auto fresh = [&]() -> std::string {
    std::string uri;
    if (server) {
      auto made = server->CreateDatabase();
      if (!made.ok()) throw PgError(made.status().ToString());
      uri = *made;
    } else {
      const std::string name = "pg_driver_bench_" + std::to_string(::getpid()) + "_" + std::to_string(++databases);
      PGconn* conn = PqConnect(opt.uri);
      PqExec(conn, ("CREATE DATABASE " + name).c_str());
      ::PQfinish(conn);
      uri = opt.uri.substr(0, opt.uri.rfind('/') + 1) + name;
    }
    PGconn* conn = PqConnect(uri);
    PqExec(conn, kSchema);
    ::PQfinish(conn);
    return uri;
  };

  const int n = opt.claim_batch;
  auto intake = [&](int rows, std::function<Figures(const std::string&, pid_t)> body) {
    return [rows, body](const std::string& uri, pid_t pm, std::string* problem) {
      Figures f = body(uri, pm);
      const long stored = CountRows(uri);
      if (stored != rows) *problem += "stored " + std::to_string(stored) + " of " + std::to_string(rows) + "; ";
      return f;
    };
  };
  auto claim = [&](ClaimLoop loop) {
    return [&opt, loop](const std::string& uri, pid_t pm, std::string* problem) {
      return RunClaim(uri, pm, opt.claim_msgs, loop, problem);
    };
  };
  const int lookups = opt.rows_tx1 * 5;
  auto select = [&](bool wrapper) {
    return [&opt, lookups, wrapper](const std::string& uri, pid_t pm, std::string* problem) {
      return SelectById(uri, pm, opt.rows_tx1, lookups, wrapper, problem);
    };
  };
  const std::vector<Case> cases = {
      {"libpq", "select by id", select(false)},
      {"pgstmt", "select by id", select(true)},
      {"pgstmt", "intake tx=1 Insert()", intake(opt.rows_tx1, [&](auto& u, pid_t pm) { return StmtIntake(u, pm, opt.rows_tx1, 1, true); })},
      {"pgstmt", "intake tx=64 Run()", intake(opt.rows_tx64, [&](auto& u, pid_t pm) { return StmtIntake(u, pm, opt.rows_tx64, 64, false); })},
      {"pgstmt", "intake tx=64 Insert()", intake(opt.rows_tx64, [&](auto& u, pid_t pm) { return StmtIntake(u, pm, opt.rows_tx64, 64, true); })},
      {"libpq", "intake tx=1", intake(opt.rows_tx1, [&](auto& u, pid_t pm) { return PqIntake(u, pm, opt.rows_tx1, 1, false); })},
      {"poco", "intake tx=1", intake(opt.rows_tx1, [&](auto& u, pid_t pm) { return PocoIntake(u, pm, opt.rows_tx1, 1); })},
      {"libpq", "intake tx=64", intake(opt.rows_tx64, [&](auto& u, pid_t pm) { return PqIntake(u, pm, opt.rows_tx64, 64, false); })},
      {"libpq", "intake tx=64 pipelined", intake(opt.rows_tx64, [&](auto& u, pid_t pm) { return PqIntake(u, pm, opt.rows_tx64, 64, true); })},
      {"poco", "intake tx=64", intake(opt.rows_tx64, [&](auto& u, pid_t pm) { return PocoIntake(u, pm, opt.rows_tx64, 64); })},
      {"libpq", "claim n=" + std::to_string(n) + " 1 stmt x2", claim([n](auto& u, auto& me) { return PqClaimLoop(u, me, n, false, false); })},
      {"poco", "claim n=" + std::to_string(n) + " 1 stmt x2", claim([n](auto& u, auto& me) { return PocoClaimLoop(u, me, n, false); })},
      {"libpq", "claim n=" + std::to_string(n) + " select+update x2", claim([n](auto& u, auto& me) { return PqClaimLoop(u, me, n, true, false); })},
      {"libpq", "claim n=" + std::to_string(n) + " select+update pipelined x2", claim([n](auto& u, auto& me) { return PqClaimLoop(u, me, n, true, true); })},
      {"poco", "claim n=" + std::to_string(n) + " select+update x2", claim([n](auto& u, auto& me) { return PocoClaimLoop(u, me, n, true); })},
  };

  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  std::printf("PostgreSQL %s, libpq %d, fsync on, synchronous_commit on; load average %.2f before; median of %d runs\n",
              server ? server->Uri().c_str() : opt.uri.c_str(), ::PQlibVersion(), load[0], opt.repeat);
  std::printf("%-6s %-36s %7s %8s %9s %14s %14s\n", "driver", "case", "rows", "seconds", "rows/s", "client us/row",
              "server us/row");
  int failures = 0;
  for (const Case& c : cases) {
    if (!opt.only.empty() && (c.driver + " " + c.name).find(opt.only) == std::string::npos) continue;
    std::vector<Figures> runs;
    std::string problem;
    for (int r = 0; r < opt.repeat && problem.empty(); ++r) {
      try {
        runs.push_back(c.run(fresh(), postmaster, &problem));
      } catch (const Poco::Exception& e) {
        problem += e.displayText();
      } catch (const std::exception& e) {  // PgError
        problem += e.what();
      }
    }
    if (!problem.empty()) {
      ++failures;
      std::printf("%-6s %-36s FAILED: %s\n", c.driver.c_str(), c.name.c_str(), problem.c_str());
      continue;
    }
    std::sort(runs.begin(), runs.end(), [](const Figures& a, const Figures& b) { return a.rows_per_s() < b.rows_per_s(); });
    const Figures& m = runs[runs.size() / 2];
    std::printf("%-6s %-36s %7ld %8.2f %9.0f %14.1f %14.1f\n", c.driver.c_str(), c.name.c_str(), m.rows, m.seconds,
                m.rows_per_s(), m.client_us / m.rows, m.server_us / m.rows);
    std::fflush(stdout);
  }
  return failures == 0 ? 0 : 1;
}
