#include "daemon/store_wake_relay.h"

#include <zmq.hpp>

#include "bus/bus.h"
#include "core/log.h"
#include "store/pg_listener.h"
#include "store/store_url.h"

namespace courier {
namespace {

// How often the thread looks at its stop flag while waiting for notices.
constexpr int kWaitSliceMs = 250;
// Between tries to reach a server that refused the listener.
constexpr int kRetryMs = 1000;

// The PostgreSQL URI of `db`; "" for any other store.
std::string PostgresUri(const std::string& db) {
  auto url = ParseStoreUrl(db);
  if (!url.ok() || url->engine != StoreUrl::Engine::kPostgreSQL) return "";
  return url->uri;
}

}  // namespace

StoreWakeRelay::StoreWakeRelay(std::string uri, std::string application_name, std::string channel)
    : uri_(std::move(uri)), application_name_(std::move(application_name)), channel_(std::move(channel)) {}

std::unique_ptr<StoreWakeRelay> StoreWakeRelay::ToWakeSocket(const std::string& db, const std::string& program,
                                                             const std::string& channel,
                                                             const std::string& wake_endpoint) {
  std::unique_ptr<StoreWakeRelay> relay(new StoreWakeRelay(PostgresUri(db), program + " listener", channel));
  if (relay->uri_.empty()) return relay;
  try {
    auto socket = std::make_unique<zmq::socket_t>(BusContext(), zmq::socket_type::push);
    socket->set(zmq::sockopt::linger, 0);
    // A wake not yet taken says what another would: no need to queue more.
    socket->set(zmq::sockopt::sndhwm, 4);
    socket->connect(wake_endpoint);
    relay->socket_ = std::move(socket);
  } catch (const zmq::error_t& e) {
    Log::Warn("store notices not relayed", {{"channel", channel}, {"error", e.what()}});
    return relay;
  }
  relay->thread_ = std::thread([r = relay.get()] { r->Run(); });
  return relay;
}

std::unique_ptr<StoreWakeRelay> StoreWakeRelay::ToEventWaiters(const std::string& db, const std::string& program,
                                                               const std::string& channel) {
  std::unique_ptr<StoreWakeRelay> relay(new StoreWakeRelay(PostgresUri(db), program + " listener", channel));
  if (relay->uri_.empty()) return relay;
  // Unique in the process: its address.
  const std::string endpoint =
      "inproc://store-wake-" + channel + "-" + std::to_string(reinterpret_cast<std::uintptr_t>(relay.get()));
  try {
    auto socket = std::make_unique<zmq::socket_t>(BusContext(), zmq::socket_type::pub);
    socket->set(zmq::sockopt::linger, 0);
    // Bound before any EventWaiter connects to it (here, on the caller's
    // thread), then used by the relay's thread only.
    socket->bind(endpoint);
    relay->socket_ = std::move(socket);
    relay->endpoint_ = endpoint;
  } catch (const zmq::error_t& e) {
    Log::Warn("store notices not relayed", {{"channel", channel}, {"error", e.what()}});
    return relay;
  }
  relay->thread_ = std::thread([r = relay.get()] { r->Run(); });
  return relay;
}

StoreWakeRelay::~StoreWakeRelay() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> StoreWakeRelay::Feeds(std::vector<std::string> feeds) const {
  if (!endpoint_.empty()) feeds.push_back(endpoint_);
  return feeds;
}

bool StoreWakeRelay::Pause(int ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stop_.load(); });
}

void StoreWakeRelay::Send() {
  try {
    (void)socket_->send(zmq::buffer(std::string("store")), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // Best effort, as every wake: the poll covers a lost one.
  }
}

void StoreWakeRelay::Run() {
  // No exception may leave the thread: a failure here costs wakes, and the
  // poll covers them.
  try {
    std::unique_ptr<PgListener> listener;
    bool deaf = false;  // a connection failed or was lost: a wake is owed
    while (!stop_) {
      if (!listener) {
        auto connected = PgListener::Connect(uri_, application_name_);
        Status listening = connected.ok() ? (*connected)->Listen({channel_}) : connected.status();
        if (!listening.ok()) {
          if (!deaf) {
            Log::Warn("not listening for store notices: wakes from other hosts wait for the poll",
                      {{"channel", channel_}, {"error", listening.message()}});
          }
          deaf = true;
          if (!Pause(kRetryMs)) break;
          continue;
        }
        listener = std::move(connected).value();
        if (deaf) {
          Log::Info("listening for store notices again", {{"channel", channel_}});
          Send();
        }
        deaf = false;
      }
      auto wake = listener->Wait(std::chrono::milliseconds(kWaitSliceMs));
      if (!wake.ok()) {
        // Lost and not reconnected (Wait waited out its slice): try again
        // after a pause, as for a first connection.
        if (!deaf) {
          Log::Warn("lost the store notices' connection: wakes from other hosts wait for the poll",
                    {{"channel", channel_}, {"error", wake.status().message()}});
        }
        deaf = true;
        if (!Pause(kRetryMs)) break;
        continue;
      }
      if (wake->reconnected && deaf) Log::Info("listening for store notices again", {{"channel", channel_}});
      if (wake->reconnected) deaf = false;
      if (!wake->channels.empty()) Send();
    }
  } catch (const std::exception& e) {
    Log::Error("store notices listener ended", {{"channel", channel_}, {"error", e.what()}});
  } catch (...) {
    Log::Error("store notices listener ended", {{"channel", channel_}});
  }
}

}  // namespace courier
