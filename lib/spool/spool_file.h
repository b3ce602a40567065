#pragma once
// The spool file format: headers that make a torn or foreign file
// recognisable, around one or more JSON documents.
//
// Version 1, one body (what a writer spools of a single request):
//   courier-spool 1 <body length> <crc32 of body, 8 hex digits>\n
//   <body>
// Version 2, a writer's whole batch in one file (one fsync, one rename and,
// once flushed, one unlink for the batch instead of one of each a body):
//   courier-spool 2 <count>\n
//   then <count> records, each
//   <body length> <crc32 of body, 8 hex digits>\n<body>\n
//
// A file cut short by a crash, or altered, fails a length, checksum or
// count test and is reported as Corruption instead of being half-replayed.
// Bodies are opaque here (spool/intake_codec.h gives their meaning).
#include <string>
#include <vector>

#include "core/status.h"

namespace courier {

inline constexpr int kSpoolFormatVersion = 2;  // the newest this program writes and reads

// Version 1 for one body, version 2 for several. Empty `bodies` is a
// caller's error: the result is a version 2 file of no records.
std::string EncodeSpoolFile(const std::vector<std::string>& bodies);
std::string EncodeSpoolFile(const std::string& body);
// Every body, in order, or Corruption naming what is wrong (header,
// version, count, length, checksum). Reads versions 1 and 2.
Result<std::vector<std::string>> DecodeSpoolFile(const std::string& contents);

}  // namespace courier
