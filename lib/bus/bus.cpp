#include "bus/bus.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/env.h"
#include "core/log.h"

namespace courier {

zmq::context_t& BusContext() {
  static zmq::context_t context(1);
  return context;
}

Status PrepareEndpoint(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) != 0) return Status::OK();
  std::string path = endpoint.substr(6);
  auto slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    Status s = MakeDirs(path.substr(0, slash));
    if (!s.ok()) return s;
  }
  // A socket file left by a killed daemon; binding over it is what we want
  // (two live daemons of one kind on one run_dir is an operator error that
  // the control socket's pid makes visible).
  ::unlink(path.c_str());
  return Status::OK();
}

Status Publisher::Bind(const std::string& endpoint) {
  try {
    Status s = PrepareEndpoint(endpoint);
    if (!s.ok()) return s;
    auto socket = std::make_unique<zmq::socket_t>(BusContext(), zmq::socket_type::pub);
    socket->set(zmq::sockopt::linger, 0);
    socket->set(zmq::sockopt::sndhwm, 100000);
    socket->bind(endpoint);
    std::lock_guard<std::mutex> lock(mu_);
    socket_ = std::move(socket);
    return Status::OK();
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("bind " + endpoint + ": " + e.what());
  }
}

void Publisher::Publish(const std::string& topic, const std::string& json) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!socket_) return;
  try {
    socket_->send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    socket_->send(zmq::buffer(json), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    Log::Warn("event not published", {{"topic", topic}, {"error", e.what()}});
  }
}

ControlServer::~ControlServer() { Stop(); }

Status ControlServer::Start(const std::string& endpoint, Answer answer) {
  auto socket = std::make_shared<zmq::socket_t>(BusContext(), zmq::socket_type::rep);
  try {
    Status s = PrepareEndpoint(endpoint);
    if (!s.ok()) return s;
    socket->set(zmq::sockopt::linger, 0);
    socket->bind(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("bind " + endpoint + ": " + e.what());
  }
  thread_ = std::thread([this, socket, answer = std::move(answer)] {
    while (!stop_) {
      try {
        zmq::pollitem_t items[] = {{static_cast<void*>(*socket), 0, ZMQ_POLLIN, 0}};
        zmq::poll(items, 1, std::chrono::milliseconds(200));
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        zmq::message_t request;
        if (!socket->recv(request, zmq::recv_flags::dontwait)) continue;
        std::string reply;
        try {
          reply = answer(request.to_string());
        } catch (const std::exception& e) {
          reply = std::string("{\"error\":\"") + e.what() + "\"}";
        }
        socket->send(zmq::buffer(reply), zmq::send_flags::none);
      } catch (const zmq::error_t& e) {
        if (e.num() == ETERM) return;
        Log::Warn("control socket error", {{"error", e.what()}});
      }
    }
  });
  return Status::OK();
}

void ControlServer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Status WakeReceiver::Bind(const std::string& endpoint) {
  try {
    Status s = PrepareEndpoint(endpoint);
    if (!s.ok()) return s;
    socket_ = std::make_unique<zmq::socket_t>(BusContext(), zmq::socket_type::pull);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->bind(endpoint);
    return Status::OK();
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("bind " + endpoint + ": " + e.what());
  }
}

bool WakeReceiver::Wait(int timeout_ms) {
  if (!socket_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return false;
  }
  try {
    zmq::pollitem_t items[] = {{static_cast<void*>(*socket_), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(timeout_ms));
    bool woke = false;
    zmq::message_t m;
    while (socket_->recv(m, zmq::recv_flags::dontwait)) woke = true;
    return woke;
  } catch (const zmq::error_t&) {
    return false;
  }
}

void WakeSender::Wake(const std::string& reason) {
  try {
    if (!socket_) {
      socket_ = std::make_unique<zmq::socket_t>(BusContext(), zmq::socket_type::push);
      socket_->set(zmq::sockopt::linger, 0);
      socket_->set(zmq::sockopt::sndhwm, 4);
      socket_->connect(endpoint_);
    }
    (void)socket_->send(zmq::buffer(reason), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    socket_.reset();
  }
}

EventWaiter::EventWaiter(const std::vector<std::string>& endpoints) {
  try {
    socket_ = std::make_unique<zmq::socket_t>(BusContext(), zmq::socket_type::sub);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->set(zmq::sockopt::subscribe, "");
    for (const auto& e : endpoints) socket_->connect(e);
  } catch (const zmq::error_t&) {
    socket_.reset();  // Wait() falls back to sleeping: the poll still works
  }
}

bool EventWaiter::Wait(int timeout_ms) {
  if (!socket_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return false;
  }
  try {
    zmq::pollitem_t items[] = {{static_cast<void*>(*socket_), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(timeout_ms));
    bool any = false;
    zmq::message_t m;
    while (socket_->recv(m, zmq::recv_flags::dontwait)) any = true;
    return any;
  } catch (const zmq::error_t&) {
    return false;
  }
}

Result<std::string> AskDaemon(const std::string& endpoint, const std::string& request, int timeout_ms) {
  return AskDaemons({{endpoint, request, timeout_ms}}).front();
}

std::vector<Result<std::string>> AskDaemons(const std::vector<DaemonQuestion>& questions) {
  using Clock = std::chrono::steady_clock;
  struct Asking {
    size_t index;
    std::unique_ptr<zmq::socket_t> socket;
    Clock::time_point deadline;
    bool sent = false;
  };
  std::vector<Result<std::string>> answers;
  std::vector<Asking> asking;
  const auto start = Clock::now();
  for (size_t i = 0; i < questions.size(); ++i) {
    const auto& q = questions[i];
    answers.emplace_back(Status::Unavailable("no answer from " + q.endpoint));
    try {
      auto socket = std::make_unique<zmq::socket_t>(BusContext(), zmq::socket_type::req);
      socket->set(zmq::sockopt::linger, 0);
      socket->connect(q.endpoint);
      asking.push_back({i, std::move(socket), start + std::chrono::milliseconds(q.timeout_ms)});
    } catch (const zmq::error_t& e) {
      answers[i] = Status::Unavailable(q.endpoint + ": " + e.what());
    }
  }
  // Each socket first waits to be able to send (REQ: a pipe to a peer),
  // then for the answer; each gives up at its own deadline.
  while (!asking.empty()) {
    std::vector<zmq::pollitem_t> items;
    auto next_deadline = asking.front().deadline;
    for (const auto& a : asking) {
      items.push_back({static_cast<void*>(*a.socket), 0, static_cast<short>(a.sent ? ZMQ_POLLIN : ZMQ_POLLOUT), 0});
      next_deadline = std::min(next_deadline, a.deadline);
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - Clock::now());
    try {
      zmq::poll(items, std::max(wait, std::chrono::milliseconds(0)));
      const auto now = Clock::now();
      std::vector<Asking> still;
      for (size_t k = 0; k < asking.size(); ++k) {
        auto& a = asking[k];
        if (!a.sent && (items[k].revents & ZMQ_POLLOUT))
          a.sent = a.socket->send(zmq::buffer(questions[a.index].request), zmq::send_flags::dontwait).has_value();
        if (a.sent && (items[k].revents & ZMQ_POLLIN)) {
          zmq::message_t reply;
          if (a.socket->recv(reply, zmq::recv_flags::dontwait)) {
            answers[a.index] = reply.to_string();
            continue;
          }
        }
        if (now < a.deadline) still.push_back(std::move(a));
      }
      asking = std::move(still);
    } catch (const zmq::error_t& e) {
      for (const auto& a : asking) answers[a.index] = Status::Unavailable(questions[a.index].endpoint + ": " + e.what());
      asking.clear();
    }
  }
  return answers;
}

}  // namespace courier
