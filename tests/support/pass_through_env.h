#pragma once
// PassThroughEnv: the real filesystem (Env::Default()) behind every
// method, for test Envs that inject a fault or a hook into one or two
// operations and override only those.
#include "core/env.h"

namespace courier::testing {

class PassThroughEnv : public Env {
 public:
  Status WriteFileSynced(const std::string& path, const std::string& data) override {
    return Env::Default().WriteFileSynced(path, data);
  }
  Result<std::string> ReadFile(const std::string& path) override { return Env::Default().ReadFile(path); }
  Status Rename(const std::string& from, const std::string& to) override { return Env::Default().Rename(from, to); }
  Status SyncDir(const std::string& dir) override { return Env::Default().SyncDir(dir); }
  Status Remove(const std::string& path) override { return Env::Default().Remove(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override { return Env::Default().ListDir(dir); }
  bool FileExists(const std::string& path) override { return Env::Default().FileExists(path); }
  Status SyncFileData(int fd, const std::string& path) override { return Env::Default().SyncFileData(fd, path); }
  Result<FsSpace> FreeSpace(const std::string& path) override { return Env::Default().FreeSpace(path); }
};

}  // namespace courier::testing
