#pragma once
// The handlers compiled into courier, one line each in registry.cpp (no
// static-initialisation tricks), filtered by include/exclude_channels; and
// through them the channel types courier knows, each as its handler
// declares it (channel_types.h).
//
// Thread-safety: immutable once built.
#include <memory>
#include <string>
#include <vector>

#include "handlers/handler.h"

namespace courier {

class HandlerRegistry {
 public:
  // Every handler, or those allowed by the lists (upper-case type codes;
  // an empty include list allows all).
  static HandlerRegistry Build(const std::vector<std::string>& include = {},
                               const std::vector<std::string>& exclude = {});
  // By type code in any case; nullptr when absent or disabled.
  const ChannelHandler* Find(const std::string& code) const;
  // The type `code` names, in any case; nullptr when absent or disabled.
  const ChannelTypeInfo* FindType(const std::string& code) const;
  // Every type, in registry order.
  std::vector<const ChannelTypeInfo*> Types() const;
  const std::vector<std::shared_ptr<const ChannelHandler>>& handlers() const { return handlers_; }

 private:
  std::vector<std::shared_ptr<const ChannelHandler>> handlers_;
};

}  // namespace courier
