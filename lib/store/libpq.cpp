#include "store/libpq.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace courier::pq {
namespace {

// libpq's soname: what Debian's libpq5 installs, and what a program
// linked with -lpq would have needed.
constexpr const char* kLibrary = "libpq.so.5";

struct LoadOutcome {
  Functions functions;
  Status status;
};

LoadOutcome LoadLibrary() {
  LoadOutcome outcome;
  void* library = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = ::dlerror();
    outcome.status = Status::Unavailable(std::string("cannot load PostgreSQL's client library ") + kLibrary +
                                         " (Debian package libpq5): " + (why ? why : "unknown reason"));
    return outcome;
  }
  std::string missing;
#define COURIER_LIBPQ_RESOLVE(name)                                                        \
  outcome.functions.name = reinterpret_cast<decltype(&::name)>(::dlsym(library, #name));  \
  if (outcome.functions.name == nullptr) missing += std::string(missing.empty() ? "" : ", ") + #name;
  COURIER_LIBPQ_FUNCTIONS(COURIER_LIBPQ_RESOLVE)
#undef COURIER_LIBPQ_RESOLVE
  if (!missing.empty()) {
    // An older libpq (pipeline mode is libpq 14): a connection would fail
    // half way, so none is made. The library stays loaded; it is harmless.
    outcome.status = Status::Unavailable(std::string(kLibrary) + " lacks " + missing +
                                         ": PostgreSQL's client library 14 or later is needed");
  }
  return outcome;
}

const LoadOutcome& Outcome() {
  static const LoadOutcome* outcome = new LoadOutcome(LoadLibrary());  // never freed: used until exit
  return *outcome;
}

}  // namespace

Status Load() { return Outcome().status; }

const Functions& Loaded() {
  const LoadOutcome& outcome = Outcome();
  if (!outcome.status.ok()) {
    std::fprintf(stderr, "fatal: %s\n", outcome.status.ToString().c_str());
    std::abort();
  }
  return outcome.functions;
}

}  // namespace courier::pq
