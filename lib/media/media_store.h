#pragma once
// MediaStore: the files of incoming attachments courier fetched, kept by
// content (the lower-case hex SHA-256 of the bytes) under one directory:
//
//   <dir>/<first two hex digits>/<sha256>   the files
//   <dir>/tmp/                              files being written
//
// Put() writes a file so that a reader sees all of it or nothing, and the
// file survives a crash once Put returns OK: written and fsynced under
// tmp/ by a name of its own, renamed into its shard, the shard fsynced.
// The same bytes put twice are one file (the second Put finds it). A
// crash leaves at worst a stray file in tmp/ (named for its digest),
// which nothing reads.
//
// The digest doubles as the file's name in URLs: 256 bits nobody guesses
// without the bytes themselves, which is what lets providers fetch an
// outgoing attachment from courier without credentials (courier-fetch(8)).
//
// Thread-safety: every method may be called from any thread; concurrent
// Puts of the same bytes are safe (each writes its own temporary file).
#include <cstdint>
#include <string>

#include "core/env.h"
#include "core/status.h"
#include "util/hmac.h"  // IsSha256Hex, for callers naming files

namespace courier {

// A file of the store: its digest and size.
struct StoredFile {
  std::string sha256;
  int64_t size = 0;
  bool existed = false;  // the same bytes were stored already
};

class MediaStore {
 public:
  explicit MediaStore(std::string dir, Env& env = Env::Default());

  const std::string& dir() const { return dir_; }

  Result<StoredFile> Put(const std::string& bytes);
  // The file's path; whether it exists is the caller's to find out.
  // InvalidArgument for anything but 64 lower-case hex digits, so a name
  // from a URL never reaches outside the store.
  Result<std::string> PathOf(const std::string& sha256) const;
  Result<std::string> Read(const std::string& sha256) const;
  bool Exists(const std::string& sha256) const;
  // Removes the file; OK when it was already gone.
  Status Remove(const std::string& sha256);

 private:
  std::string dir_;
  Env& env_;
};

}  // namespace courier
