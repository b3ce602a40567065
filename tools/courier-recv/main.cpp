// courier-recv: the webhook receiver. See courier-recv(8).
#include <variant>

#include "recv/recv_daemon.h"

using namespace courier;

int main(int argc, char** argv) {
  auto options = ParseDaemonCommandLine(kRecvDaemon, argc, argv);
  if (auto* exit_now = std::get_if<int>(&options)) return *exit_now;
  return RunRecv(std::get<Options>(options)).ExitCode();
}
