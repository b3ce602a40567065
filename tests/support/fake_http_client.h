#pragma once
// FakeHttpClient: an HttpClient that answers from a script instead of the
// network, for tests of code above the handlers (the sender): answers
// queued with Answer() are used in order, then 200 "{}". Records every
// request; Hold() keeps requests waiting for an answer. Thread-safe.
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "http/http_client.h"

namespace courier::testing {

class FakeHttpClient : public HttpClient {
 public:
  // The next request gets this status, headers (lower-case names) and body.
  void Answer(int status_code, std::map<std::string, std::string> headers = {}, std::string body = "{}") {
    std::lock_guard<std::mutex> lock(mu_);
    HttpExchange e;
    e.status_code = status_code;
    e.headers = std::move(headers);
    e.body = std::move(body);
    script_.push_back(std::move(e));
  }

  // The next request gets `exchange` as it is (a transport error, a
  // refusal).
  void AnswerExchange(HttpExchange exchange) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(exchange));
  }

  // While held, requests wait in Do() until Release(); waiting() counts
  // them (sends in flight at a provider that has not answered yet).
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
    }
    released_.notify_all();
  }
  int waiting() const {
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_;
  }

  HttpExchange Do(const HttpRequestSpec& request) override {
    std::unique_lock<std::mutex> lock(mu_);
    requests_.push_back(request);
    waiting_++;
    released_.wait(lock, [this] { return !held_; });
    waiting_--;
    HttpExchange e;
    e.status_code = 200;
    e.body = "{}";
    if (!script_.empty()) {
      e = std::move(script_.front());
      script_.pop_front();
    }
    e.method = request.method;
    e.url = request.url;
    e.request_dump = request.method + " " + request.url + "\r\n\r\n" + request.body;
    e.response_dump = "HTTP/1.1 " + std::to_string(e.status_code) + "\r\n\r\n" + e.body;
    return e;
  }

  std::vector<HttpRequestSpec> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable released_;
  bool held_ = false;
  int waiting_ = 0;
  std::deque<HttpExchange> script_;
  std::vector<HttpRequestSpec> requests_;
};

}  // namespace courier::testing
