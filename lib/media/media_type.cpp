#include "media/media_type.h"

#include <magic.h>

#include <memory>

#include "util/mime.h"
#include "util/text.h"

namespace courier {
namespace {

struct MagicCloser {
  void operator()(magic_t cookie) const { magic_close(cookie); }
};
using Magic = std::unique_ptr<std::remove_pointer_t<magic_t>, MagicCloser>;

// The thread's cookie: libmagic's are not to be shared between threads.
Result<magic_t> ThreadMagic() {
  thread_local Magic cookie;
  thread_local std::string failed;
  if (cookie) return cookie.get();
  if (!failed.empty()) return Status::Unavailable(failed);
  Magic opened(magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR));
  if (!opened) {
    failed = "libmagic: cannot open";
    return Status::Unavailable(failed);
  }
  if (magic_load(opened.get(), nullptr) != 0) {
    const char* error = magic_error(opened.get());
    failed = std::string("libmagic: cannot load its database: ") + (error ? error : "unknown error");
    return Status::Unavailable(failed);
  }
  cookie = std::move(opened);
  return cookie.get();
}

bool SaysNothing(const std::string& type) {
  return type.empty() || type == kDefaultMimeType || type == "text/plain" || type == "application/x-empty";
}

}  // namespace

Result<std::string> SniffMediaType(const std::string& bytes) {
  auto cookie = ThreadMagic();
  if (!cookie.ok()) return cookie.status();
  const char* type = magic_buffer(*cookie, bytes.data(), bytes.size());
  if (type == nullptr) {
    const char* error = magic_error(*cookie);
    return Status::Internal(std::string("libmagic: ") + (error ? error : "no answer"));
  }
  return BareMimeType(type);
}

std::string ChooseMediaType(const std::string& declared, const std::string& sniffed) {
  const std::string bare_declared = BareMimeType(declared);
  const std::string bare_sniffed = BareMimeType(sniffed);
  if (!SaysNothing(bare_sniffed)) return bare_sniffed;
  if (!bare_declared.empty()) return bare_declared;
  return bare_sniffed.empty() || bare_sniffed == "application/x-empty" ? kDefaultMimeType : bare_sniffed;
}

bool MediaTypeRefused(const std::string& type, const std::vector<std::string>& refused) {
  const std::string bare = BareMimeType(type);
  const std::string family = bare.substr(0, bare.find('/'));
  for (const auto& entry : refused) {
    const std::string r = BareMimeType(entry);
    if (r.empty()) continue;
    if (r == bare) return true;
    if (r.size() > 2 && r.compare(r.size() - 2, 2, "/*") == 0 && r.substr(0, r.size() - 2) == family) return true;
  }
  return false;
}

}  // namespace courier
