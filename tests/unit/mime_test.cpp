// util/mime.h: MIME types of attachments.
#include "util/mime.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace courier {
namespace {

TEST(Mime, TypeFromPath) {
  struct Case {
    std::string path, type;
  };
  for (const auto& c : std::vector<Case>{
           {"https://x.test/a/photo.JPG", "image/jpeg"},
           {"https://x.test/a/clip.mp4?sig=abc.png", "video/mp4"},  // the query is no part of the path
           {"https://x.test/a/voice.ogg#t=1", "audio/ogg"},
           {"/tmp/doc.pdf", "application/pdf"},
           {"https://x.test/a.b/file", ""},  // a dot in a directory is no extension
           {"https://x.test/file.xyz", ""},
           {"noextension", ""},
       }) {
    SCOPED_TRACE(c.path);
    EXPECT_EQ(MimeTypeFromPath(c.path), c.type);
  }
}

TEST(Mime, BareType) {
  EXPECT_EQ(BareMimeType("Audio/OGG; codecs=opus"), "audio/ogg");
  EXPECT_EQ(BareMimeType(" image/png "), "image/png");
  EXPECT_EQ(BareMimeType(""), "");
}

}  // namespace
}  // namespace courier
