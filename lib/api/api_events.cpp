#include "api/api_events.h"

namespace courier {

Status ApiEvents::Bind(const std::string& endpoint) { return publisher_.Bind(endpoint); }

void ApiEvents::Committed(const std::string& topic) { publisher_.Publish(topic, R"({"source":"courier-api"})"); }

}  // namespace courier
