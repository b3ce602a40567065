#pragma once
// PostgresSuite: a gtest fixture base for tests on a real PostgreSQL: one
// server for the suite (initdb and start cost seconds; the suite's tests
// may Stop(), Start() or Crash() it), a new database for each test (tens
// of milliseconds) at uri(). A test is skipped when no server can be made
// here, or fails under CI (COURIER_SKIP_UNLESS_POSTGRES).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "postgres_server.h"

namespace courier::testing {

class PostgresSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  static PostgresServer& server() { return *server_; }
  // The test's own database.
  const std::string& uri() const { return uri_; }

 private:
  static std::unique_ptr<PostgresServer> server_;
  static std::string create_error_;
  std::string uri_;
};

}  // namespace courier::testing
