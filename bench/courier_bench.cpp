// courier-bench: the two measurements bench/run.py cannot make from the
// outside. Not installed; see bench/README.md.
//
//   courier-bench spool-fill --spool-dir D --channel UUID --count N [--batch B]
//       writes N spool files as courier-recv does when the store is down,
//       each an External (EX) webhook's intake: one incoming msg and its
//       "Message Received" channel log; B files at a time (default 32,
//       the batch courier-recv's writer spools under 32 connections; 1 is
//       a store outage at a trickle).
//   courier-bench claim --db PATH --limit L --rounds R
//       times R ClaimQueued calls (as courier-send's foreman makes them),
//       each followed by a W status for every msg claimed (as its sender
//       threads do, one WriteStatus each), and prints one JSON line.
//
// Exit status: 0 ok, 64 usage, 69 store or spool unavailable.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/clock.h"
#include "core/msg.h"
#include "core/status.h"
#include "core/uuid.h"
#include "spool/intake_codec.h"
#include "spool/spool.h"
#include "store/store.h"

using namespace courier;

namespace {

int Fail(int code, const std::string& what) {
  std::cerr << "courier-bench: " << what << '\n';
  return code;
}

double Millis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The q-quantile (0..1) of `v` by nearest rank; 0 when empty.
double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(q * static_cast<double>(v.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

// One EX receive as lib/recv/receiver.cpp builds it: handler msg (status P,
// urn, text), then the uuid, channel and received_on the receiver adds,
// and the channel log of the request.
Intake ExIntake(const std::string& channel_uuid, int64_t n, Micros now) {
  char number[32];
  std::snprintf(number, sizeof number, "+2507880%05lld", static_cast<long long>(n % 100000));
  const std::string text = "bench spool msg " + std::to_string(n);
  Msg m;
  m.uuid = NewUUID();
  m.channel_uuid = channel_uuid;
  m.channel_type = "EX";
  m.direction = Direction::kIn;
  m.status = MsgStatus::kPending;
  m.urn = std::string("tel:") + number;
  m.text = text;
  m.received_on = now;

  const std::string query = "sender=%2B" + std::string(number + 1) + "&text=bench+spool+msg+" + std::to_string(n);
  ChannelLog log;
  log.channel_uuid = channel_uuid;
  log.description = "Message Received";
  log.method = "POST";
  log.url = "http://127.0.0.1:8080/c/ex/" + channel_uuid + "/receive";
  log.status_code = 200;
  log.request = "POST /c/ex/" + channel_uuid +
                "/receive HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n" + query;
  log.response = "HTTP/1.1 200\r\nContent-Type: application/json\r\n\r\n{\"message\":\"Message Accepted\",\"data\":"
                 "[{\"type\":\"msg\",\"channel_uuid\":\"" + channel_uuid + "\",\"msg_uuid\":\"" + m.uuid +
                 "\",\"text\":\"" + text + "\",\"urn\":\"" + m.urn + "\"}]}\n";
  log.elapsed_ms = 1;
  log.created_on = now;

  Intake intake;
  intake.channel_uuid = channel_uuid;
  intake.msgs.push_back(std::move(m));
  intake.msg_logs.push_back(std::move(log));
  return intake;
}

int SpoolFill(const std::string& dir, const std::string& channel_text, int64_t count, int64_t batch) {
  auto channel = NormalizeUUID(channel_text);
  if (!channel) return Fail(exit_code::kUsage, "not a channel UUID: '" + channel_text + "'");
  SpoolDir spool(dir);
  Status s = spool.Ensure();
  if (!s.ok()) return Fail(exit_code::kUnavailable, "spool " + dir + ": " + s.message());
  const auto started = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < count;) {
    const Micros now = Clock::System().Now();
    std::vector<std::string> bodies;
    for (; i < count && static_cast<int64_t>(bodies.size()) < batch; ++i)
      bodies.push_back(EncodeIntake(ExIntake(*channel, i, now)));
    auto name = spool.WriteBatch(bodies, now);
    if (!name.ok()) return Fail(exit_code::kUnavailable, "spool write: " + name.status().message());
  }
  const double ms = Millis(std::chrono::steady_clock::now() - started);
  std::cout << "{\"intakes\":" << count << ",\"batch\":" << batch << ",\"write_ms\":" << ms << "}\n";
  return exit_code::kOk;
}

int Claim(const std::string& db, int limit, int rounds) {
  auto store = OpenStore(db);
  if (!store.ok()) return Fail(exit_code::kUnavailable, "store " + db + ": " + store.status().message());
  const std::string worker = "bench:" + std::to_string(::getpid());
  std::vector<double> claim_ms, status_ms;
  int64_t msgs = 0;
  for (int r = 0; r < rounds; ++r) {
    ClaimRequest req;
    req.worker = worker;
    req.now = Clock::System().Now();
    req.limit = limit;
    auto t0 = std::chrono::steady_clock::now();
    auto claimed = (*store)->ClaimQueued(req);
    claim_ms.push_back(Millis(std::chrono::steady_clock::now() - t0));
    if (!claimed.ok()) return Fail(exit_code::kUnavailable, "claim: " + claimed.status().message());
    for (const Msg& m : *claimed) {
      StatusUpdate u;
      u.channel_uuid = m.channel_uuid;
      u.msg_id = m.id;
      u.status = MsgStatus::kWired;
      auto t1 = std::chrono::steady_clock::now();
      auto written = (*store)->WriteStatus(u);
      status_ms.push_back(Millis(std::chrono::steady_clock::now() - t1));
      if (!written.ok()) return Fail(exit_code::kUnavailable, "write status: " + written.status().message());
    }
    msgs += static_cast<int64_t>(claimed->size());
  }
  std::printf("{\"claims\":%d,\"msgs\":%lld,\"claim_p50_ms\":%.3f,\"claim_p99_ms\":%.3f,\"status_p50_ms\":%.3f}\n",
              rounds, static_cast<long long>(msgs), Quantile(claim_ms, 0.50), Quantile(claim_ms, 0.99),
              Quantile(status_ms, 0.50));
  return exit_code::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Benchmark helpers for bench/run.py (not installed).", "courier-bench"};
  app.require_subcommand(1);

  std::string spool_dir, channel;
  int64_t count = 0;
  auto* fill = app.add_subcommand("spool-fill", "write N spool files of EX incoming msgs, as courier-recv would");
  fill->add_option("--spool-dir", spool_dir, "the spool root (tmp/ new/ cur/ bad/ are created)")->required();
  fill->add_option("--channel", channel, "uuid of an EX channel in the store to flush into")->required();
  fill->add_option("--count", count, "number of files")->required()->check(CLI::PositiveNumber);
  int64_t batch = 32;
  fill->add_option("--batch", batch, "files written together, one fsync of new/ for each batch")
      ->check(CLI::PositiveNumber);

  std::string db;
  int limit = 100, rounds = 0;
  auto* claim = app.add_subcommand("claim", "time ClaimQueued + WriteStatus(W) rounds on a store");
  claim->add_option("--db", db, "the store (path or sqlite:PATH)")->required();
  claim->add_option("--limit", limit, "most msgs per claim")->check(CLI::PositiveNumber);
  claim->add_option("--rounds", rounds, "number of claims")->required()->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : exit_code::kUsage;
  }
  if (fill->parsed()) return SpoolFill(spool_dir, channel, count, batch);
  return Claim(db, limit, rounds);
}
