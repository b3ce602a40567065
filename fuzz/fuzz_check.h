#pragma once
// FUZZ_CHECK: a property a fuzz target holds its code to (a round trip, an
// idempotent normalisation). A broken one aborts with the expression and
// what was compared, so libFuzzer saves the input like any crash.
#include <cstdio>
#include <cstdlib>
#include <string>

namespace courier::fuzz {

[[noreturn]] inline void CheckFailed(const char* file, int line, const char* expr, const std::string& detail) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n%s\n", file, line, expr, detail.c_str());
  std::abort();
}

}  // namespace courier::fuzz

#define FUZZ_CHECK(cond, detail) \
  do {                           \
    if (!(cond)) ::courier::fuzz::CheckFailed(__FILE__, __LINE__, #cond, (detail)); \
  } while (0)
