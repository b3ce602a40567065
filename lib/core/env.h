#pragma once
// Env: the filesystem operations courier's durability rests on, behind one
// seam (as LevelDB's Env), so tests can inject faults: a failing fsync, a
// full disk, a crash between two steps.
//
// PosixEnv is the real one. Every method reports errors as Status::IOError
// with the path and errno text; none throws. Thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace courier {

// Space on the file system holding a path, as an unprivileged process
// may use it (statvfs f_bavail).
struct FsSpace {
  int64_t available_bytes = 0;
  int64_t total_bytes = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // Creates (or truncates) `path`, writes `data`, fsyncs and closes it.
  virtual Status WriteFileSynced(const std::string& path, const std::string& data) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // rename(2): atomic within one filesystem.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // fsync of a directory, making renames and unlinks in it durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // Regular file names in `dir` (not paths), unsorted; NotFound if missing.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  // fdatasync(2) of a file another component writes (the store's WAL),
  // through an fd the caller keeps open so it sees writeback errors.
  virtual Status SyncFileData(int fd, const std::string& path);
  // statvfs(2) of the file system `path` is on; tests fake a full disk.
  virtual Result<FsSpace> FreeSpace(const std::string& path);

  static Env& Default();
};

// Creates `dir` and its missing parents (mode 0750), like mkdir -p.
Status MakeDirs(const std::string& dir);

// WriteFilesAtomically puts each data[i] at dir/names[i] so that a
// reader of `dir` sees each complete file or nothing, and a file survives
// a crash once its Status is OK:
//   1. write tmp_dir/name and fsync it (data durable, invisible to readers)
//   2. rename into dir (atomic: readers see all or nothing)
//   3. fsync dir (the renames themselves durable), once for all files
// A crash before 3 leaves at worst stray files in tmp_dir, never a torn
// file in dir. tmp_dir and dir must be on one filesystem. Step 1 runs for
// up to four files at a time: an fsync mostly waits for the disk, and
// four in flight take about the time of one. Returns a Status for each
// file, in order; if the fsync of `dir` fails, every file renamed into it
// gets that error.
std::vector<Status> WriteFilesAtomically(Env& env, const std::string& tmp_dir, const std::string& dir,
                                         const std::vector<std::string>& names,
                                         const std::vector<std::string>& datas);

}  // namespace courier
