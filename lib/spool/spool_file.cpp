#include "spool/spool_file.h"

#include <Poco/Checksum.h>

#include <cinttypes>
#include <cstdio>

namespace courier {
namespace {

uint32_t Crc32(const std::string& data) {
  Poco::Checksum crc(Poco::Checksum::TYPE_CRC32);
  crc.update(data.data(), static_cast<unsigned>(data.size()));
  return crc.checksum();
}

}  // namespace

std::string EncodeSpoolFile(const std::string& body) {
  char header[80];
  std::snprintf(header, sizeof header, "courier-spool %d %zu %08" PRIx32 "\n", kSpoolFormatVersion, body.size(),
                Crc32(body));
  return header + body;
}

Result<std::string> DecodeSpoolFile(const std::string& contents) {
  auto newline = contents.find('\n');
  if (newline == std::string::npos || newline > 80) return Status::Corruption("no spool header line");
  std::string header = contents.substr(0, newline);
  int version = 0;
  size_t length = 0;
  unsigned crc = 0;
  char magic[16] = {0};
  int consumed = 0;
  if (std::sscanf(header.c_str(), "%15s %d %zu %8x%n", magic, &version, &length, &crc, &consumed) != 4 ||
      std::string(magic) != "courier-spool" || consumed != static_cast<int>(header.size()))
    return Status::Corruption("not a courier spool file (bad header)");
  if (version != kSpoolFormatVersion)
    return Status::Corruption("unsupported spool format version " + std::to_string(version));
  std::string body = contents.substr(newline + 1);
  if (body.size() != length)
    return Status::Corruption("torn file: body is " + std::to_string(body.size()) + " bytes, header says " +
                              std::to_string(length));
  if (Crc32(body) != crc) return Status::Corruption("checksum mismatch");
  return body;
}

}  // namespace courier
