#pragma once
// The store file's permissions. The store holds every channel's secrets
// (tokens, passwords), so it is created readable by its owner only
// (0600), or by its owner and one group (0640, owned by `store_group`)
// where another user (a reporting job) must read it; never by everyone,
// whatever the umask. SQLite creates the -wal and -shm files with the
// store file's mode, so they follow. An existing store is never changed:
// courier says when it is readable by others (StoreExposure) and the
// operator decides.
#include <string>

#include "core/status.h"

namespace courier {

// The group new store files are created for ("" for none: 0600): a
// process-wide setting made once at start from the store_group option.
void SetStoreGroup(const std::string& group);
std::string StoreGroup();

// Creates the empty store file at `path` when there is none, mode 0600
// (0640 and group `group` when given). An existing file is left as it
// is. InvalidArgument when the group does not exist, IOError when the file
// cannot be created or given its group.
Status CreateStoreFile(const std::string& path, const std::string& group);

// What is wrong with the permissions of the store at `path` and its -wal
// and -shm: "" when none is readable by others (or they do not exist),
// else e.g. "store var/courier.db is readable by every user (mode 0644):
// it holds channel secrets; chmod 600 var/courier.db ...".
std::string StoreExposure(const std::string& path);


}  // namespace courier
