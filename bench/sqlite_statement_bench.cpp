// sqlite_statement_bench: one typical store read and one typical store
// write through POCO Data's session (`session << sql, use(..), into(..),
// now`) against the store's cached prepared statements (SqliteStatements,
// lib/store/sqlite_statement.h), on the same SQLite file. The issue asks
// that POCO Data, the suite's named data library, be kept where speed
// allows: these figures are why the store's statements are prepared once.
//
//   read   SELECT of a msg's uuid, status, text and created_on by id
//          (one primary-key lookup, 4 columns out, 1 bound value)
//   write  UPDATE of a msg's modified_on and error_count by id
//          (one primary-key lookup and row write, 3 bound values), 1000
//          updates a transaction, synchronous=OFF so the disk does not
//          hide the CPU cost
//
// On a fresh store (schema from SqliteStore::Migrate) with 10,000 msgs.
// Printed per case: CPU microseconds per call, the median of --repeat
// runs.
// Run by hand: build/release/bench/sqlite_statement_bench [--calls N]
// [--repeat R]. Exit status 0, or 1 when a call failed.
#include <sqlite3.h>
#include <unistd.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/sqlite_statement.h"
#include "store/sqlite_store.h"

using namespace courier;                // NOLINT
using namespace Poco::Data::Keywords;  // NOLINT: use, into, now

namespace {

constexpr int kMsgs = 10000;
constexpr const char* kRead = "SELECT uuid, status, text, created_on FROM msgs WHERE id = ?";
constexpr const char* kWrite = "UPDATE msgs SET modified_on = ?, error_count = error_count + ? WHERE id = ?";

double ThreadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// CPU microseconds (this thread's, user and system) per call of `call(i)`
// for i in [0, calls): on a shared machine, wall time would measure the
// other processes too.
double Time(int calls, const std::function<void(int)>& call) {
  const double start = ThreadCpuMicros();
  for (int i = 0; i < calls; ++i) call(i);
  return (ThreadCpuMicros() - start) / calls;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool MakeStore(const std::string& path) {
  SqliteStore store(path, Clock::System());
  if (!store.Migrate().ok()) return false;
  Channel ch;
  ch.type = "EX";
  auto added = store.AddChannel(ch);
  if (!added.ok()) return false;
  std::vector<Msg> msgs;
  for (int i = 0; i < kMsgs; ++i) {
    Msg m;
    m.channel_uuid = added->uuid;
    m.direction = Direction::kIn;
    m.status = MsgStatus::kPending;
    m.urn = "tel:+2507883" + std::to_string(10000 + i % 500);
    m.text = "hello number " + std::to_string(i);
    msgs.push_back(std::move(m));
  }
  return store.ImportMsgs(msgs).ok();
}

}  // namespace

int main(int argc, char** argv) {
  int calls = 20000, repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--calls") == 0) calls = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::atoi(argv[i + 1]);
  }
  if (calls <= 0 || repeat <= 0) {
    std::fprintf(stderr, "usage: sqlite_statement_bench [--calls N] [--repeat R]\n");
    return 64;
  }
  const auto dir = std::filesystem::temp_directory_path() / ("sqlite_statement_bench." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "courier.db").string();
  int failed = 0;
  try {
    if (!MakeStore(path)) throw std::runtime_error("could not make the store");
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
    session << "PRAGMA synchronous = OFF", now;
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("sqlite3_open failed");
    double poco_read_us = 0, poco_write_us = 0, cached_read_us = 0, cached_write_us = 0;
    {
      SqliteStatements statements(db);
      statements.Exec("PRAGMA synchronous = OFF");
      std::vector<double> poco_read, poco_write, cached_read, cached_write;
      auto id_of = [](int i) { return static_cast<Poco::Int64>(1 + (i * 7919) % kMsgs); };
      for (int r = 0; r < repeat; ++r) {
        poco_read.push_back(Time(calls, [&](int i) {
          Poco::Int64 id = id_of(i), created_on = 0;
          std::string uuid, status, text;
          session << kRead, use(id), into(uuid), into(status), into(text), into(created_on), now;
          if (uuid.empty()) ++failed;
        }));
        cached_read.push_back(Time(calls, [&](int i) {
          auto q = statements(kRead);
          q.Bind(static_cast<int64_t>(id_of(i)));
          if (!q.Step()) ++failed;
          std::string uuid = q.Text(0), status = q.Text(1), text = q.Text(2);
          int64_t created_on = q.Int(3);
          if (uuid.empty() || created_on == 0) ++failed;
        }));
        poco_write.push_back(Time(calls, [&](int i) {
          if (i % 1000 == 0) session << "BEGIN", now;
          Poco::Int64 id = id_of(i), t = i, one = 1;
          session << kWrite, use(t), use(one), use(id), now;
          if (i % 1000 == 999 || i == calls - 1) session << "COMMIT", now;
        }));
        cached_write.push_back(Time(calls, [&](int i) {
          if (i % 1000 == 0) statements.Exec("BEGIN");
          auto q = statements(kWrite);
          q.Bind(static_cast<int64_t>(i)).Bind(static_cast<int64_t>(1)).Bind(static_cast<int64_t>(id_of(i))).Run();
          if (q.Changes() != 1) ++failed;
          if (i % 1000 == 999 || i == calls - 1) statements.Exec("COMMIT");
        }));
      }
      poco_read_us = Median(poco_read);
      poco_write_us = Median(poco_write);
      cached_read_us = Median(cached_read);
      cached_write_us = Median(cached_write);
    }
    sqlite3_close(db);
    std::printf("sqlite %s, %d msgs, %d calls, median of %d\n", sqlite3_libversion(), kMsgs, calls, repeat);
    std::printf("%-8s %14s %16s\n", "case", "POCO us/call", "cached us/call");
    std::printf("%-8s %14.2f %16.2f\n", "read", poco_read_us, cached_read_us);
    std::printf("%-8s %14.2f %16.2f\n", "write", poco_write_us, cached_write_us);
  } catch (const Poco::Exception& e) {
    std::fprintf(stderr, "sqlite_statement_bench: %s\n", e.displayText().c_str());
    failed = 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sqlite_statement_bench: %s\n", e.what());
    failed = 1;
  }
  std::filesystem::remove_all(dir);
  if (failed) std::fprintf(stderr, "sqlite_statement_bench: %d calls failed\n", failed);
  return failed ? 1 : 0;
}
