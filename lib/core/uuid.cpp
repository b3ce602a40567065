#include "core/uuid.h"

#include <pthread.h>
#include <sys/random.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace courier {

namespace {

// Random bytes from the kernel (getrandom: no file descriptor, no lock),
// taken 512 at a time per thread: a uuid per webhook made opening
// /dev/urandom (Poco::UUIDGenerator) two syscalls of every request.
// A forked child must not reuse its parent's unused bytes.
unsigned fork_generation = 0;
void AfterFork() { ++fork_generation; }

void RandomBytes(unsigned char* out, size_t n) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, [] { pthread_atfork(nullptr, nullptr, AfterFork); });
  thread_local unsigned char pool[512];
  thread_local size_t left = 0;
  thread_local unsigned generation = 0;
  if (generation != fork_generation) {
    left = 0;
    generation = fork_generation;
  }
  while (n > 0) {
    if (left == 0) {
      size_t got = 0;
      while (got < sizeof pool) {
        ssize_t r = ::getrandom(pool + got, sizeof pool - got, 0);
        if (r < 0) {
          if (errno == EINTR) continue;
          throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
        }
        got += static_cast<size_t>(r);
      }
      left = sizeof pool;
    }
    size_t take = n < left ? n : left;
    std::memcpy(out, pool + (sizeof pool - left), take);
    // Never hand out the same bytes twice.
    std::memset(pool + (sizeof pool - left), 0, take);
    left -= take;
    out += take;
    n -= take;
  }
}

// The canonical 8-4-4-4-12 text of 16 bytes whose version nibble is
// `version`, with the RFC 9562 variant.
std::string Format(unsigned char* b, unsigned char version) {
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | (version << 4));
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 0x0f]);
  }
  return s;
}

}  // namespace

std::string NewUUID() {
  // Version 7: 48 bits of Unix milliseconds, then 74 random bits.
  unsigned char b[16];
  RandomBytes(b + 6, sizeof b - 6);
  const uint64_t ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  return Format(b, 7);
}

std::string NewRandomUUID() {
  unsigned char b[16];
  RandomBytes(b, sizeof b);
  return Format(b, 4);
}

std::optional<std::string> NormalizeUUID(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace courier
