#pragma once
// The spool file format: a header line that makes a torn or foreign file
// recognisable, then a JSON document.
//
//   courier-spool 1 <body length> <crc32 of body, 8 hex digits>\n
//   <body>
//
// A file cut short by a crash, or altered, fails the length or checksum
// test and is reported as Corruption instead of being half-replayed.
#include <string>

#include "core/status.h"

namespace courier {

inline constexpr int kSpoolFormatVersion = 1;

std::string EncodeSpoolFile(const std::string& body);
// The body, or Corruption naming what is wrong (header, version, length,
// checksum).
Result<std::string> DecodeSpoolFile(const std::string& contents);

}  // namespace courier
