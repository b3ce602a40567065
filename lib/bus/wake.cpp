#include "bus/wake.h"

#include <zmq.hpp>

#include "bus/endpoints.h"

namespace courier {

std::string EndpointFor(const std::string& run_dir, const std::string& name) {
  return "ipc://" + run_dir + "/" + name + ".sock";
}

std::vector<std::string> EventFeeds(const std::string& run_dir) {
  return {EndpointFor(run_dir, kRecvEvents), EndpointFor(run_dir, kSendEvents), EndpointFor(run_dir, kApiEvents),
          EndpointFor(run_dir, kFetchEvents)};
}

bool PushWake(const std::string& endpoint, const std::string& reason) {
  try {
    static zmq::context_t context(1);
    zmq::socket_t push(context, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 200);  // ms: enough to hand the frame to a live peer
    push.set(zmq::sockopt::sndhwm, 16);
    push.connect(endpoint);
    auto sent = push.send(zmq::buffer(reason), zmq::send_flags::dontwait);
    return sent.has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

}  // namespace courier
