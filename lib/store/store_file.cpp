#include "store/store_file.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>


namespace courier {
namespace {

std::mutex g_group_mu;
std::string& GroupSetting() {
  static std::string group;
  return group;
}

Result<gid_t> GroupId(const std::string& name) {
  std::vector<char> buf(16384);
  struct group entry;
  struct group* found = nullptr;
  int rc = ::getgrnam_r(name.c_str(), &entry, buf.data(), buf.size(), &found);
  if (rc != 0 || found == nullptr) return Status::InvalidArgument("store_group '" + name + "': no such group");
  return found->gr_gid;
}

std::string Octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

void SetStoreGroup(const std::string& group) {
  std::lock_guard<std::mutex> lock(g_group_mu);
  GroupSetting() = group;
}

std::string StoreGroup() {
  std::lock_guard<std::mutex> lock(g_group_mu);
  return GroupSetting();
}

Status CreateStoreFile(const std::string& path, const std::string& group) {
  if (path.empty() || path == ":memory:") return Status::OK();
  gid_t gid = 0;
  if (!group.empty()) {
    auto found = GroupId(group);
    if (!found.ok()) return found.status();
    gid = *found;
  }
  const mode_t mode = group.empty() ? 0600 : 0640;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return Status::OK();
    // Let SQLite say what is wrong (a missing directory, no permission),
    // as it did before; its message names the store.
    return Status::OK();
  }
  // Exactly `mode`, whatever the umask took away or a setgid directory gave.
  Status s;
  if (!group.empty() && ::fchown(fd, static_cast<uid_t>(-1), gid) != 0)
    s = Status::IOError("store " + path + ": cannot give it group " + group + ": " + std::strerror(errno));
  if (s.ok() && ::fchmod(fd, mode) != 0)
    s = Status::IOError("store " + path + ": chmod: " + std::strerror(errno));
  ::close(fd);
  if (!s.ok()) ::unlink(path.c_str());
  return s;
}

std::string StoreExposure(const std::string& path) {
  if (path.empty() || path == ":memory:") return "";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string file = path + suffix;
    struct stat st;
    if (::stat(file.c_str(), &st) != 0) continue;
    if ((st.st_mode & S_IROTH) == 0) continue;
    return "store file " + file + " is readable by every user (mode " + Octal(st.st_mode) +
           ") and holds channel secrets: chmod 600 " + path + "*, or chmod 640 with store_group";
  }
  return "";
}

}  // namespace courier
