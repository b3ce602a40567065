#include "loopback_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <random>

namespace courier::testing {

namespace {

// Below the kernel's ephemeral range (32768-60999 by default; read from
// /proc when it differs) and above the well-known and registered ports
// that servers on a developer's machine tend to use.
constexpr int kLowest = 20000;

int EphemeralLow() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0, high = 0;
  if (range >> low >> high && low > kLowest + 1000) return low;
  return 32768;
}

bool Bindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int ReserveLoopbackPort() {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  // fcntl locks belong to the process and go when it exits (a crash
  // included); they also go when any descriptor of the file is closed, so
  // this one stays open for the life of the process. A daemon forked from
  // the test does not inherit them.
  static const int fd = ::open("/tmp/courier-test-ports.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return 0;
  static std::mt19937 random{std::random_device{}()};
  const int high = EphemeralLow();
  const int span = high - kLowest;
  const int start = static_cast<int>(random() % static_cast<unsigned>(span));
  for (int i = 0; i < span; ++i) {
    const int port = kLowest + (start + i) % span;
    struct flock byte {};
    byte.l_type = F_WRLCK;
    byte.l_whence = SEEK_SET;
    byte.l_start = port;
    byte.l_len = 1;
    // A byte this process already holds succeeds again: skip the ports
    // handed out before.
    static bool given[65536];
    if (given[port]) continue;
    if (::fcntl(fd, F_SETLK, &byte) != 0) continue;
    given[port] = true;
    if (Bindable(port)) return port;  // else: a server outside the tests has it
  }
  return 0;
}

}  // namespace courier::testing
