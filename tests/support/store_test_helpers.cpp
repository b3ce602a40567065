#include "store_test_helpers.h"

#include <utility>

namespace courier::testing {

Result<IncomingResult> WriteIncoming(Store& store, Msg msg, const std::vector<ChannelLog>& logs) {
  if (logs.size() > 1) return Status::InvalidArgument("WriteIncoming (tests) takes at most one log");
  Intake intake;
  intake.channel_uuid = msg.channel_uuid;
  intake.msgs.push_back(std::move(msg));
  intake.msg_logs = logs;
  auto outcomes = store.WriteIntakes({intake}, nullptr);
  if (!outcomes.ok()) return outcomes.status();
  const IntakeOutcome& outcome = outcomes->front();
  if (!outcome.status.ok()) return outcome.status;
  return outcome.msgs.front();
}

Result<Channel> AddTelChannel(Store& store, const std::string& type, const std::string& address) {
  Channel c;
  c.type = type;
  c.address = address;
  c.schemes = {"tel"};
  return store.AddChannel(c);
}

Result<Channel> GetChannelById(Store& store, int64_t id) {
  auto channels = store.ListChannels();
  if (!channels.ok()) return channels.status();
  for (auto& channel : *channels) {
    if (channel.id == id) return std::move(channel);
  }
  return errors::ChannelNotFound();
}

Result<Contact> GetContactByURN(Store& store, const std::string& urn) {
  auto contacts = store.ListContacts(/*stopped_only=*/false);
  if (!contacts.ok()) return contacts.status();
  for (auto& contact : *contacts) {
    for (const auto& own : contact.urns) {
      if (own == urn) return std::move(contact);
    }
  }
  return Status::NotFound("contact not found");
}

Result<IdempotentQueue> QueueOutgoingOnce(Store& store, int64_t token_id, const std::string& key,
                                          const std::string& request_hash, std::vector<Msg> msgs) {
  std::vector<QueueRequest> one(1);
  one[0] = QueueRequest{token_id, key, request_hash, std::move(msgs)};
  auto done = store.QueueOutgoingBatch(std::move(one));
  if (!done.ok()) return done.status();
  return std::move(done->front());
}

}  // namespace courier::testing
