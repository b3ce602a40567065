#pragma once
// Test harness for integration tests: temporary directories and running
// the real courier programs as child processes with captured output.
#include <map>
#include <string>
#include <vector>

namespace courier::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
// destruction unless COURIER_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Path of a built courier program, e.g. Bin("courier-ctl").
std::string Bin(const std::string& program);

// Runs argv[0] with args, feeding `input` on stdin; env entries are added
// to (or override) the current environment.
RunResult RunProgram(const std::vector<std::string>& argv, const std::string& input = "",
              const std::map<std::string, std::string>& env = {});

// Splits text into non-empty lines.
std::vector<std::string> Lines(const std::string& text);

void WriteFile(const std::string& path, const std::string& contents);
std::string ReadFile(const std::string& path);

}  // namespace courier::testing
