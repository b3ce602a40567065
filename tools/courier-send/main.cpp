// courier-send: the foreman and its senders. See courier-send(8).
#include <variant>

#include "send/send_daemon.h"

using namespace courier;

int main(int argc, char** argv) {
  auto options = ParseDaemonCommandLine(kSendDaemon, argc, argv);
  if (auto* exit_now = std::get_if<int>(&options)) return *exit_now;
  return RunSend(std::get<Options>(options)).ExitCode();
}
