// courier-ctl media: the media store of fetched attachments (ctl.h;
// courier-fetch(8) for how files come to be there).
#include "core/json_writer.h"
#include "ctl/ctl.h"
#include "media/media_store.h"

namespace courier {

int Ctl::MediaPrune(int days, bool dry_run, bool json) {
  auto store = OpenExisting(dry_run ? StoreAccess::kReadOnly : StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  const Micros before = clock_.Now() - static_cast<Micros>(days) * 86400 * kMicrosPerSecond;
  MediaStore media(options_.media_dir);
  int64_t files = 0, bytes = 0;
  JsonWriter listed;
  listed.BeginArray();
  // By the least recently stored, a page at a time, each page's files gone
  // before the next is read; a dry run removes nothing to page by, so it
  // reads them all at once.
  const int page_size = dry_run ? (1 << 30) : 500;
  for (;;) {
    auto page = (*store)->ListMediaUsedBefore(before, page_size);
    if (!page.ok()) return Report(page.status());
    size_t done = 0;
    for (const auto& file : *page) {
      ++done;
      if (!dry_run) {
        auto forgotten = (*store)->ForgetMedia(file.sha256, before);
        if (!forgotten.ok()) return Report(forgotten.status());
        if (!*forgotten) continue;  // stored again meanwhile: kept
        Status removed = media.Remove(file.sha256);
        if (!removed.ok()) return Report(removed);
      }
      ++files;
      bytes += file.size;
      listed.BeginObject().Field("sha256", file.sha256).Field("content_type", file.content_type).Field("size", file.size);
      listed.Key("stored_on").Time(file.used_on);
      listed.EndObject();
      if (!json && dry_run) out_ << file.sha256 << "  " << file.content_type << "  " << file.size << '\n';
    }
    if (dry_run || page->size() < static_cast<size_t>(page_size) || done == 0) break;
  }
  listed.EndArray();
  if (json) {
    JsonWriter w;
    w.BeginObject().Field("dry_run", dry_run).Field("files", files).Field("bytes", bytes);
    w.Key("removed").Raw(listed.Take());
    w.EndObject();
    out_ << w.Take() << '\n';
  } else {
    out_ << (dry_run ? "would remove " : "removed ") << files << " media files (" << bytes << " bytes) not stored in "
         << days << " days\n";
  }
  return exit_code::kOk;
}

}  // namespace courier
