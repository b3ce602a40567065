#include "model/media_reference.h"

#include <gtest/gtest.h>

#include <map>

#include "core/channel.h"
#include "model/outgoing.h"

namespace courier {
namespace {

const std::string kSha = std::string(62, 'a') + "0f";
const std::string kDefault = "http://127.0.0.1:8082/media";
const std::string kPublic = "https://media.example.org/m";

TEST(MediaReference, TheFormsThatNameAStoredFile) {
  const std::vector<std::string> served = {kDefault, kPublic + "/"};
  struct Case {
    std::string attachment;
    std::optional<std::string> type;  // nullopt: names no stored file
  };
  const std::vector<Case> cases = {
      {"media:" + kSha, ""},
      {"media:" + kSha + ".jpg", ""},
      {"image/png:media:" + kSha, "image/png"},
      {"image/jpeg:" + kDefault + "/" + kSha + ".jpg", "image/jpeg"},
      {kDefault + "/" + kSha, ""},
      {"video/mp4:" + kPublic + "/" + kSha + ".mp4", "video/mp4"},
      // Not ours: another host, another path, a query, a short digest,
      // upper-case hex, a path below the digest.
      {"image/jpeg:https://example.com/media/" + kSha + ".jpg", std::nullopt},
      {"image/jpeg:http://127.0.0.1:8082/other/" + kSha, std::nullopt},
      {"image/jpeg:" + kDefault + "/" + kSha + "?x=1", std::nullopt},
      {"media:abc", std::nullopt},
      {"media:" + std::string(64, 'A'), std::nullopt},
      {"image/jpeg:" + kDefault + "/x/" + kSha, std::nullopt},
      {"image/jpeg:https://example.com/a.jpg", std::nullopt},
  };
  for (const auto& c : cases) {
    auto local = ParseLocalMedia(c.attachment, served);
    ASSERT_EQ(local.has_value(), c.type.has_value()) << c.attachment;
    if (!local) continue;
    EXPECT_EQ(local->sha256, kSha) << c.attachment;
    EXPECT_EQ(local->declared_type, *c.type) << c.attachment;
  }
  EXPECT_TRUE(IsMediaReference("media:abc"));
  EXPECT_TRUE(IsMediaReference("image/png:media:abc"));
  EXPECT_FALSE(IsMediaReference("image/png:" + kDefault + "/" + kSha));
  EXPECT_FALSE(IsMediaReference("mediafile:x"));
}

TEST(MediaReference, StoredFilesAreRewrittenToThePublicUrl) {
  std::vector<std::string> looked_up;
  MediaLookup lookup = [&](const std::string& sha) -> Result<MediaFile> {
    looked_up.push_back(sha);
    if (sha != kSha) return Status::NotFound("no such media");
    MediaFile f;
    f.sha256 = sha;
    f.content_type = "image/jpeg";
    return f;
  };
  LocalMediaUrls urls{{kDefault}, kPublic + "/"};
  auto out = ResolveLocalMedia({"media:" + kSha, "image/png:media:" + kSha, "image/jpeg:" + kDefault + "/" + kSha,
                                "image/gif:https://example.com/a.gif"},
                               urls, lookup);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, (std::vector<std::string>{"image/jpeg:" + kPublic + "/" + kSha + ".jpg",
                                            "image/png:" + kPublic + "/" + kSha + ".jpg",
                                            "image/jpeg:" + kPublic + "/" + kSha + ".jpg",
                                            "image/gif:https://example.com/a.gif"}));
  EXPECT_EQ(looked_up.size(), 3u);

  // Nothing of ours: no lookup, nothing changed.
  looked_up.clear();
  auto plain = ResolveLocalMedia({"image/gif:https://example.com/a.gif"}, LocalMediaUrls{{kDefault}, ""}, lookup);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, std::vector<std::string>{"image/gif:https://example.com/a.gif"});
  EXPECT_TRUE(looked_up.empty());
}

TEST(MediaReference, WhatNoRetryMendsIsSaidAndWhatMayPassIsPassedOn) {
  MediaLookup none = [](const std::string&) -> Result<MediaFile> { return Status::NotFound("no such media"); };
  MediaLookup down = [](const std::string&) -> Result<MediaFile> { return Status::Unavailable("store down"); };
  const std::string gif = "image/gif:https://example.com/a.gif";

  auto no_public = ResolveLocalMedia({gif, "media:" + kSha}, LocalMediaUrls{{kDefault}, ""}, none);
  ASSERT_FALSE(no_public.ok());
  EXPECT_TRUE(no_public.status().IsInvalidArgument());
  EXPECT_NE(no_public.status().message().find("attachment 2"), std::string::npos);
  EXPECT_NE(no_public.status().message().find("set media_url"), std::string::npos);

  auto missing = ResolveLocalMedia({"media:" + kSha}, LocalMediaUrls{{kDefault}, kPublic}, none);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_EQ(missing.status().message(), "attachment 1: media " + kSha + " is not in the media store");

  auto malformed = ResolveLocalMedia({"media:../../etc/passwd"}, LocalMediaUrls{{kDefault}, kPublic}, none);
  ASSERT_FALSE(malformed.ok());
  EXPECT_TRUE(malformed.status().IsInvalidArgument());

  auto unavailable = ResolveLocalMedia({"media:" + kSha}, LocalMediaUrls{{kDefault}, kPublic}, down);
  ASSERT_FALSE(unavailable.ok());
  EXPECT_EQ(unavailable.status().code(), Status::Code::kUnavailable);
}

TEST(MediaReference, FileUrlsCarryTheExtensionOfTheirType) {
  EXPECT_EQ(MediaFileUrl(kPublic + "//", kSha, "image/jpeg"), kPublic + "/" + kSha + ".jpg");
  EXPECT_EQ(MediaFileUrl(kPublic, kSha, "application/x-unheard-of"), kPublic + "/" + kSha);
}

TEST(MediaReference, QueueingAcceptsWellFormedReferencesOnly) {
  Channel channel;
  channel.uuid = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";
  channel.type = "TG";
  channel.schemes = {"telegram"};
  OutgoingRequest request;
  request.channel = channel.uuid;
  request.urn = "telegram:3527065";
  request.attachments = {"media:" + kSha, "image/png:media:" + kSha + ".png"};
  auto msg = BuildOutgoingMsg(channel, request);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->attachments, request.attachments);

  request.attachments = {"media:abc"};
  std::string field;
  auto refused = BuildOutgoingMsg(channel, request, &field);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("SHA-256"), std::string::npos);
}

}  // namespace
}  // namespace courier
