// courier-ctl store copy: a SQLite store moved to PostgreSQL (ctl.h).
#include <unistd.h>

#include <iostream>

#include "core/json.h"
#include "ctl/ctl.h"
#include "store/store_copy.h"
#include "store/store_url.h"

namespace courier {

int Ctl::StoreCopy(const std::string& to, bool json) {
  auto source = ParseStoreUrl(options_.db);
  if (!source.ok()) return Report(source.status());
  if (source->engine != StoreUrl::Engine::kSQLite || source->path == ":memory:") {
    return Report(Status::Usage("store copy reads a SQLite store file: --db names " + RedactStoreUrl(options_.db)));
  }
  auto target = ParseStoreUrl(to);
  if (!target.ok() || target->engine != StoreUrl::Engine::kPostgreSQL) {
    return Report(Status::Usage("store copy writes a PostgreSQL store: --to must be a postgresql:// url, not " +
                                RedactStoreUrl(to)));
  }

  // A line rewritten in place while a table is copied, ended when it is
  // done; only for a person watching (a pipe or a log gets the summary).
  const bool on_terminal = &err_ == &std::cerr && ::isatty(STDERR_FILENO) == 1;
  CopyProgressFn progress;
  if (on_terminal) {
    progress = [this](const CopyProgress& at) {
      err_ << "\rcopying " << at.table << ": " << at.copied << " of " << at.total << " rows"
           << (at.copied == at.total ? "\n" : "") << std::flush;
    };
  }
  auto copied = CopySqliteToPostgres(source->path, target->uri, progress);
  if (!copied.ok()) {
    if (on_terminal) err_ << '\n';
    return Report(copied.status());
  }

  int64_t total = 0;
  auto tables = json::NewObject();
  for (const auto& table : *copied) {
    tables->set(table.table, table.rows);
    total += table.rows;
  }
  if (json) {
    auto report = json::NewObject();
    report->set("from", options_.db);
    report->set("to", RedactStoreUrl(to));
    report->set("tables", tables);
    report->set("rows", total);
    out_ << json::Stringify(report) << '\n';
  } else {
    for (const auto& table : *copied) out_ << table.table << ' ' << table.rows << '\n';
    out_ << "copied " << total << " rows from " << options_.db << " to " << RedactStoreUrl(to) << '\n';
  }
  return exit_code::kOk;
}

}  // namespace courier
