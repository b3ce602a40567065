#include "store/store_notices.h"

namespace courier {

bool TopicQueuesMsgs(const std::string& topic) { return topic == "msg.queued" || topic == "msg.retried"; }

}  // namespace courier
