#pragma once
// How many times `needle` occurs in `text`, without overlaps: for tests
// that count log lines ("logged once per outage").
#include <cstddef>
#include <string>

namespace courier::testing {

inline size_t CountOccurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

}  // namespace courier::testing
