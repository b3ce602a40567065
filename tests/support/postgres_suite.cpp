#include "postgres_suite.h"

namespace courier::testing {

std::unique_ptr<PostgresServer> PostgresSuite::server_;
std::string PostgresSuite::create_error_;

void PostgresSuite::SetUpTestSuite() {
  create_error_.clear();
  if (!PostgresServer::Unavailable().empty()) return;
  auto made = PostgresServer::Create();
  if (made.ok()) {
    server_ = std::move(made).value();
  } else {
    create_error_ = made.status().ToString();
  }
}

void PostgresSuite::TearDownTestSuite() { server_.reset(); }

void PostgresSuite::SetUp() {
  COURIER_SKIP_UNLESS_POSTGRES();
  ASSERT_NE(server_, nullptr) << create_error_;
  auto uri = server_->CreateDatabase();
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  uri_ = *uri;
}

}  // namespace courier::testing
