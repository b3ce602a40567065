#include "spool/spool_file.h"

#include <Poco/Checksum.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>

namespace courier {
namespace {

constexpr size_t kMaxHeaderLine = 80;

uint32_t Crc32(const char* data, size_t size) {
  Poco::Checksum crc(Poco::Checksum::TYPE_CRC32);
  crc.update(data, static_cast<unsigned>(size));
  return crc.checksum();
}

void AppendRecordHeader(std::string& out, const std::string& body) {
  char header[kMaxHeaderLine];
  std::snprintf(header, sizeof header, "%zu %08" PRIx32 "\n", body.size(), Crc32(body.data(), body.size()));
  out += header;
}

// The line starting at `at` (without its newline) and where the next one
// starts; false when there is no newline within a header's length.
bool HeaderLine(const std::string& contents, size_t at, std::string& line, size_t& next) {
  auto newline = contents.find('\n', at);
  if (newline == std::string::npos || newline - at > kMaxHeaderLine) return false;
  line = contents.substr(at, newline - at);
  next = newline + 1;
  return true;
}

// "<length> <crc>" (version 2 records) and the same after "courier-spool 1 ".
bool ParseLengthAndCrc(const char* text, size_t& length, unsigned& crc) {
  int consumed = 0;
  return std::sscanf(text, "%zu %8x%n", &length, &crc, &consumed) == 2 && text[consumed] == '\0';
}

Result<std::string> CheckedBody(const std::string& contents, size_t at, size_t length, unsigned crc,
                                const std::string& what) {
  if (contents.size() - at < length)
    return Status::Corruption("torn file: " + what + " is " + std::to_string(contents.size() - at) +
                              " bytes, header says " + std::to_string(length));
  if (Crc32(contents.data() + at, length) != crc) return Status::Corruption("checksum mismatch in " + what);
  return contents.substr(at, length);
}

}  // namespace

std::string EncodeSpoolFile(const std::string& body) {
  std::string out = "courier-spool 1 ";
  AppendRecordHeader(out, body);  // version 1's header is "courier-spool 1 <length> <crc>\n"
  out += body;
  return out;
}

std::string EncodeSpoolFile(const std::vector<std::string>& bodies) {
  if (bodies.size() == 1) return EncodeSpoolFile(bodies[0]);
  size_t size = 32;
  for (const auto& body : bodies) size += body.size() + 24;
  std::string out;
  out.reserve(size);
  out += "courier-spool 2 " + std::to_string(bodies.size()) + "\n";
  for (const auto& body : bodies) {
    AppendRecordHeader(out, body);
    out += body;
    out += '\n';
  }
  return out;
}

Result<std::vector<std::string>> DecodeSpoolFile(const std::string& contents) {
  std::string header;
  size_t at = 0;
  if (!HeaderLine(contents, 0, header, at)) return Status::Corruption("no spool header line");
  static const std::string kMagic = "courier-spool ";
  if (header.compare(0, kMagic.size(), kMagic) != 0 || header.size() < kMagic.size() + 2 ||
      header[kMagic.size() + 1] != ' ')
    return Status::Corruption("not a courier spool file (bad header)");
  const char version = header[kMagic.size()];
  const char* rest = header.c_str() + kMagic.size() + 2;
  std::vector<std::string> bodies;
  if (version == '1') {
    size_t length = 0;
    unsigned crc = 0;
    if (!ParseLengthAndCrc(rest, length, crc)) return Status::Corruption("not a courier spool file (bad header)");
    if (contents.size() - at != length)
      return Status::Corruption("torn file: body is " + std::to_string(contents.size() - at) +
                                " bytes, header says " + std::to_string(length));
    auto body = CheckedBody(contents, at, length, crc, "the body");
    if (!body.ok()) return body.status();
    bodies.push_back(std::move(*body));
    return bodies;
  }
  if (version != '2')
    return Status::Corruption("unsupported spool format version in \"" + header + "\"");
  size_t count = 0;
  int consumed = 0;
  if (!std::isdigit(static_cast<unsigned char>(rest[0])) || std::sscanf(rest, "%zu%n", &count, &consumed) != 1 ||
      rest[consumed] != '\0' || count == 0)
    return Status::Corruption("not a courier spool file (bad count)");
  bodies.reserve(std::min<size_t>(count, 4096));
  for (size_t i = 0; i < count; ++i) {
    const std::string what = "record " + std::to_string(i + 1) + " of " + std::to_string(count);
    std::string line;
    if (!HeaderLine(contents, at, line, at)) return Status::Corruption("torn file: no header for " + what);
    size_t length = 0;
    unsigned crc = 0;
    if (!ParseLengthAndCrc(line.c_str(), length, crc)) return Status::Corruption("bad header for " + what);
    auto body = CheckedBody(contents, at, length, crc, what);
    if (!body.ok()) return body.status();
    at += length;
    if (at >= contents.size() || contents[at] != '\n') return Status::Corruption("torn file: " + what + " unended");
    ++at;
    bodies.push_back(std::move(*body));
  }
  if (at != contents.size())
    return Status::Corruption("trailing bytes after record " + std::to_string(count) + " of " + std::to_string(count));
  return bodies;
}

}  // namespace courier
