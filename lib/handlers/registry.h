#pragma once
// The handlers compiled into courier, one line each in registry.cpp (no
// static-initialisation tricks), filtered by include/exclude_channels.
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
  const std::vector<std::shared_ptr<const ChannelHandler>>& handlers() const { return handlers_; }

 private:
  std::vector<std::shared_ptr<const ChannelHandler>> handlers_;
};

}  // namespace courier
