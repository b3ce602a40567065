#pragma once
// ScratchDir: a fresh directory under /tmp for one unit test, removed with
// everything in it when the object goes. (Integration tests have the
// harness's TempDir, which adds file helpers.)
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace courier::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = "/tmp/courier-unit-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace courier::testing
