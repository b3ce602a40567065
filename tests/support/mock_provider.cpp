#include "mock_provider.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "http/http_client.h"

namespace courier::testing {

std::map<std::string, std::string> DecodeForm(const std::string& text) {
  std::map<std::string, std::string> out;
  for (auto& [name, value] : DecodePairs(text)) out[name] = std::move(value);  // the last of a name wins
  return out;
}

MockProvider::MockProvider() {
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  // Scripted answers may be slow (delay_ms): a thread per connection, so
  // one slow answer holds up no other.
  options.threading = HttpServerOptions::Threading::kThreadPerConnection;
  server_ = std::make_unique<HttpServer>(*this, options);
  Status s = server_->Start();
  if (!s.ok()) throw std::runtime_error("mock provider: " + s.ToString());
}

MockProvider::~MockProvider() { server_->Stop(); }

std::string MockProvider::url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

void MockProvider::On(const std::string& prefix, MockResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [p, queue] : scripted_) {
    if (p == prefix) {
      queue.push_back(std::move(response));
      return;
    }
  }
  scripted_.push_back({prefix, {std::move(response)}});
}

void MockProvider::SetDefault(MockResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  default_ = std::move(response);
}

std::vector<RecordedRequest> MockProvider::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t MockProvider::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

int MockProvider::MaxInFlight(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = max_in_flight_.find(path);
  return it == max_in_flight_.end() ? 0 : it->second;
}

void MockProvider::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.clear();
  scripted_.clear();
  max_in_flight_.clear();
  default_ = MockResponse{};
}

HttpOut MockProvider::Serve(const HttpIn& in) {
  RecordedRequest r;
  r.method = in.method;
  r.uri = in.uri;
  auto q = in.uri.find('?');
  r.path = in.uri.substr(0, q);
  r.query = q == std::string::npos ? "" : in.uri.substr(q + 1);
  r.headers = in.headers;
  r.body = in.body;
  r.params = DecodeForm(r.query);
  r.received_at = std::chrono::steady_clock::now();
  auto ct = in.headers.find("content-type");
  if (ct != in.headers.end() && ct->second.find("x-www-form-urlencoded") != std::string::npos) r.form = DecodeForm(in.body);

  MockResponse response;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(r);
    int& in_flight = ++in_flight_[r.path];
    max_in_flight_[r.path] = std::max(max_in_flight_[r.path], in_flight);
    response = default_;
    for (auto& [prefix, queue] : scripted_) {
      if (r.path.rfind(prefix, 0) == 0 && !queue.empty()) {
        response = queue.front();
        queue.pop_front();
        break;
      }
    }
  }
  if (response.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(response.delay_ms));
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_[r.path];
  }
  HttpOut out;
  out.status = response.status;
  out.body = response.body;
  out.content_type = response.content_type;
  out.headers = response.headers;
  return out;
}

}  // namespace courier::testing
