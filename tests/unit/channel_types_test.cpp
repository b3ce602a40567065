// The type list that `channel add` validates against and the handler
// registry that the daemons serve must agree.
#include <gtest/gtest.h>

#include "handlers/channel_types.h"
#include "handlers/registry.h"

TEST(ChannelTypesTest, EveryRegisteredHandlerHasATypeEntryAndBack) {
  auto registry = courier::HandlerRegistry::Build();
  for (const auto& h : registry.handlers()) EXPECT_NE(courier::FindChannelType(h->Code()), nullptr) << h->Code();
  for (const auto& t : courier::ChannelTypes()) EXPECT_NE(registry.Find(t.code), nullptr) << t.code;
}
