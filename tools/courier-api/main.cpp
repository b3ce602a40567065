// courier-api: the applications' HTTP API. See courier-api(8).
#include <variant>

#include "api/api_daemon.h"

using namespace courier;

int main(int argc, char** argv) {
  auto options = ParseDaemonCommandLine(kApiDaemon, argc, argv);
  if (auto* exit_now = std::get_if<int>(&options)) return *exit_now;
  return RunApi(std::get<Options>(options)).ExitCode();
}
