// courier-fetch: downloads incoming attachments and keeps them in the
// media store. See courier-fetch(8).
#include <variant>

#include "fetch/fetch_daemon.h"

using namespace courier;

int main(int argc, char** argv) {
  auto options = ParseDaemonCommandLine(kFetchDaemon, argc, argv);
  if (auto* exit_now = std::get_if<int>(&options)) return *exit_now;
  return RunFetch(std::get<Options>(options)).ExitCode();
}
