// Redaction: known secret values (Redact), credentials found by their
// place in a URL or form (MaskUrlCredentials, UrlCredentials), a channel's
// secrets including those inside its settings' URLs, and the process log
// that masks whatever a caller passes it.
#include "core/redact.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/channel.h"
#include "core/log.h"

namespace courier {
namespace {

TEST(Redact, ReplacesEveryOccurrenceAsIsAndUrlEncoded) {
  EXPECT_EQ("a=******** b=******** c=********",
            Redact("a=s3 cret b=s3%20cret c=s3 cret", {"s3 cret"}));
}

// A secret of one or two characters (a Kannel password "pw", a PIN "7")
// would, replaced wherever it occurs, mangle ordinary text; it is
// replaced where it stands as a whole token instead: between characters
// that are not letters or digits, or at an end of the text.
TEST(Redact, ShortSecretsAreRedactedAsWholeTokens) {
  struct Case {
    const char* text;
    const char* secret;
    const char* redacted;
  };
  const Case cases[] = {
      {"short ab stays", "ab", "short ******** stays"},
      {"password=ab&user=about", "ab", "password=********&user=about"},
      {"ab", "ab", "********"},
      {"tab cab abc", "ab", "tab cab abc"},
      {"pin:7 of 17 and 71", "7", "pin:******** of 17 and 71"},
      {"x=%2B&y=+", "+", "x=********&y=********"},  // URL-encoded too
      {"nothing here", "", "nothing here"},
  };
  for (const auto& c : cases) EXPECT_EQ(c.redacted, Redact(c.text, {c.secret})) << c.text;
}

struct MaskCase {
  const char* text;
  const char* masked;
};

TEST(MaskUrlCredentials, MasksUserinfoAndCredentialParameters) {
  const MaskCase cases[] = {
      // userinfo: the password, or a bare token
      {"https://user:s3cretpw@host/send", "https://user:********@host/send"},
      {"https://T0KEN@host/send", "https://********@host/send"},
      {"http://user:p@ss@host:80/", "http://user:********@host:80/"},
      {"https://host/send", "https://host/send"},
      {"https://host/a@b", "https://host/a@b"},  // an @ in the path is no userinfo
      // credential parameters, wherever the name has a credential word
      {"https://h/s?api_key=K3Y123&to=1", "https://h/s?api_key=********&to=1"},
      {"https://h/s?to=1&token=T0K&x=2", "https://h/s?to=1&token=********&x=2"},
      {"/s?password=a&passwd=b&pass=c&secret=d&sig=e&signature=f&auth=g&Authorization=h",
       "/s?password=********&passwd=********&pass=********&secret=********&sig=********"
       "&signature=********&auth=********&Authorization=********"},
      {"/s?apiKey=K&access_token=T&client_secret=S", "/s?apiKey=********&access_token=********&client_secret=********"},
      {"/s?text=hello&from=%2B250&id=7", "/s?text=hello&from=%2B250&id=7"},
      {"/s?api%5Fkey=K", "/s?api%5Fkey=********"},  // an encoded name
      {"/s?token=", "/s?token="},                  // nothing to mask
      // forms and dumps: a parameter at the start of the text or of a line
      {"api_key=K&text=hi", "api_key=********&text=hi"},
      {"POST /send?key=K HTTP/1.1\r\nHost: h\r\n\r\nid=1&password=P",
       "POST /send?key=******** HTTP/1.1\r\nHost: h\r\n\r\nid=1&password=********"},
      // in running text: a log line, JSON, quotes
      {"error=\"GET https://u:pw@h/x?token=T failed\"", "error=\"GET https://u:********@h/x?token=******** failed\""},
      {"{\"url\":\"https://h/?key=K\"}", "{\"url\":\"https://h/?key=********\"}"},
      {"postgresql://courier:dbpw@db/courier", "postgresql://courier:********@db/courier"},
      // only parameters: not a word in prose; but any name with a credential word
      {"the key=K is wrong", "the key=K is wrong"},
      {"monkey=1", "monkey=********"},
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(c.masked, MaskUrlCredentials(c.text)) << c.text;
}

TEST(MaskUrlCredentials, IsIdempotent) {
  const std::string once = MaskUrlCredentials("https://u:pw@h/?token=T&key=K");
  EXPECT_EQ(once, MaskUrlCredentials(once));
}

TEST(UrlCredentials, ListsTheMaskedValuesAsWrittenAndDecoded) {
  std::vector<std::string> got = UrlCredentials("https://user:s3cret%21@h/send?api_key=K3Y+1&token={{id}}&to=1");
  std::sort(got.begin(), got.end());
  EXPECT_EQ((std::vector<std::string>{"K3Y 1", "K3Y+1", "s3cret!", "s3cret%21"}), got);
  EXPECT_TRUE(UrlCredentials("https://h/send?to={{to}}").empty());
  EXPECT_TRUE(UrlCredentials("https://h/send?key=********").empty());
}

TEST(ChannelSecretValues, IncludeCredentialsInsideSettings) {
  Channel c;
  c.config = {{"send_url", "https://user:s3cretpw@host/send?api_key=K3Y123&token=T0KEN456&to={{to}}"},
              {"send_body", "id={{id}}&secret=B0DYS3CRET"},
              {"auth_token", "tok-123"}};
  std::vector<std::string> got = c.SecretValues();
  std::sort(got.begin(), got.end());
  EXPECT_EQ((std::vector<std::string>{"B0DYS3CRET", "K3Y123", "T0KEN456", "s3cretpw", "tok-123"}), got);
  // So a request built from the setting is redacted wherever it shows.
  EXPECT_EQ("POST /send?api_key=********&token=******** Authorization: user:********",
            Redact("POST /send?api_key=K3Y123&token=T0KEN456 Authorization: user:s3cretpw", got));
}

TEST(LogFormat, MasksUrlCredentialsInEveryField) {
  const std::string line = Log::Format(LogLevel::kInfo, "calling https://u:pw@h/x",
                                       {{"url", "https://h/send?api_key=K3Y123"}, {"db", "postgresql://c:dbpw@h/c"}});
  EXPECT_EQ(std::string::npos, line.find("K3Y123")) << line;
  EXPECT_EQ(std::string::npos, line.find("dbpw")) << line;
  EXPECT_EQ(std::string::npos, line.find(":pw@")) << line;
  EXPECT_NE(std::string::npos, line.find("api_key=********")) << line;
}

}  // namespace
}  // namespace courier
