// courier-hook: delivers the store's events to the applications' webhooks.
// See courier-hook(8).
#include <variant>

#include "hook/hook_daemon.h"

using namespace courier;

int main(int argc, char** argv) {
  auto options = ParseDaemonCommandLine(kHookDaemon, argc, argv);
  if (auto* exit_now = std::get_if<int>(&options)) return *exit_now;
  return RunHook(std::get<Options>(options)).ExitCode();
}
