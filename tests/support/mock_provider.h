#pragma once
// MockProvider: a real HTTP server on 127.0.0.1 (a free port) standing in
// for a provider's API. It records every request and answers from a
// script: responses queued for a path prefix are used in order, then the
// default answer.
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/http_server.h"

namespace courier::testing {

struct RecordedRequest {
  std::string method;
  std::string uri;   // path and query
  std::string path;
  std::string query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  // Decoded form body (application/x-www-form-urlencoded) and query.
  std::map<std::string, std::string> form;
  std::map<std::string, std::string> params;
  std::chrono::steady_clock::time_point received_at;
};

struct MockResponse {
  int status = 200;
  std::string body = "{}";
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  int delay_ms = 0;  // answer this late (a slow provider)
};

class MockProvider : public SyncHttpService {
 public:
  MockProvider();
  ~MockProvider() override;
  // "http://127.0.0.1:PORT"
  std::string url() const;
  // Answer requests whose path starts with `prefix` with `response`, once
  // per call of On (in order); then fall back to the default.
  void On(const std::string& prefix, MockResponse response);
  void SetDefault(MockResponse response);
  std::vector<RecordedRequest> requests() const;
  size_t count() const;
  // The most requests to `path` it was answering at once: a floor under
  // the sender's concurrency on a channel (max_workers).
  int MaxInFlight(const std::string& path) const;
  void Clear();

  HttpOut Serve(const HttpIn& in) override;

 private:
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;
  std::vector<std::pair<std::string, std::deque<MockResponse>>> scripted_;
  MockResponse default_;
  std::map<std::string, int> in_flight_, max_in_flight_;  // by path
  std::unique_ptr<HttpServer> server_;
};

// Decodes a=1&b=2 (+ as space, %XX).
std::map<std::string, std::string> DecodeForm(const std::string& text);

}  // namespace courier::testing
