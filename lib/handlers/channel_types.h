#pragma once
// The channel types courier knows: code, provider name and the URN schemes
// a channel of that type speaks. This is the one list `channel add`
// validates against and `channel types` prints; courier-recv and
// courier-send attach each type's handler to its entry.
#include <string>
#include <vector>

namespace courier {

struct ChannelTypeInfo {
  std::string code;   // upper-case: "KN"
  std::string name;   // "Kannel"
  std::vector<std::string> schemes;
  std::string notes;  // what the type needs in its config
};

const std::vector<ChannelTypeInfo>& ChannelTypes();
// Case-insensitive; nullptr when unknown.
const ChannelTypeInfo* FindChannelType(const std::string& code);

}  // namespace courier
