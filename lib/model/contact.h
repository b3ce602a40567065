#pragma once
// Contact: the person behind one or more URNs, as the store keeps them.
// Created by the store when a URN is first seen; stopped contacts are not
// sent to.
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"

namespace courier {

struct Contact {
  int64_t id = 0;
  std::string uuid;
  std::string name;
  bool stopped = false;
  std::vector<std::string> urns;
  Micros created_on = 0;
};

}  // namespace courier
