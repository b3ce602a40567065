// The CHANNEL TYPES section of courier-recv(8) is generated from the
// handlers' own declarations (channel_types.h) and their routes, so that
// the page an operator reads names every type, route and setting the code
// has, with the meaning and default the code declares. This test fails
// while the page differs from what the declarations make; `make
// man-types` (this test with COURIER_UPDATE_MAN=1) writes it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "handlers/registry.h"
#include "util/text.h"

namespace courier {
namespace {

const char* kBegin = ".\\\" BEGIN CHANNEL TYPES: generated from the handlers' declarations by `make man-types`";
const char* kEnd = ".\\\" END CHANNEL TYPES";

// Text for a roff text line: backslashes and hyphens escaped (a plain '-'
// may print as a hyphen, which breaks copied URLs and keys), and a
// leading control character made literal.
std::string Roff(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string Bold(const std::string& text) { return "\\fB" + Roff(text) + "\\fR"; }

std::string Describe(const ConfigKeyInfo& key) {
  std::vector<std::string> notes;
  if (key.need == ConfigNeed::kToSend) notes.push_back("needed to send");
  if (key.need == ConfigNeed::kToReceive) notes.push_back("needed to receive");
  if (!key.or_key.empty() && !notes.empty()) notes.back() += ", or " + Bold(key.or_key);
  if (key.secret) notes.push_back("secret");
  std::string line = notes.empty() ? "" : "(" + Join(notes, "; ") + ") ";
  line += Roff(key.meaning);
  if (!key.default_value.empty()) line += "; default " + Bold(key.default_value);
  return line + ".";
}

// The section's body, between the markers.
std::string Generated(const HandlerRegistry& registry) {
  std::ostringstream out;
  // Left-aligned and unhyphenated: long URLs and templates would leave
  // justified lines gaping, and a hyphen added in a key or URL misleads.
  out << ".ad l\n.nh\n";
  for (const auto& handler : registry.handlers()) {
    const ChannelTypeInfo& type = handler->Type();
    std::vector<std::string> schemes, routes;
    for (const auto& s : type.schemes) schemes.push_back(Bold(s));
    for (const auto& r : RouteSummary(*handler)) routes.push_back(Bold(r));
    out << ".TP\n" << Bold(type.code) << " (" << Roff(type.name) << "): " << Join(schemes, ", ") << "\n";
    out << "Routes: " << Join(routes, ", ") << ".\n";
    out << ".RS\n";
    for (const auto& key : type.config) out << ".TP\n.B " << key.name << "\n" << Describe(key) << "\n";
    out << ".RE\n";
  }
  out << ".hy\n.ad b\n";
  return out.str();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ManPage, ChannelTypesSectionIsCurrent) {
  const std::string path = std::string(COURIER_SOURCE_DIR) + "/man/courier-recv.8";
  const std::string page = ReadFile(path);
  ASSERT_FALSE(page.empty()) << "cannot read " << path;
  const size_t begin = page.find(kBegin);
  ASSERT_NE(begin, std::string::npos) << path << " lacks the line\n" << kBegin;
  const size_t body = page.find('\n', begin) + 1;
  const size_t end = page.find(kEnd, body);
  ASSERT_NE(end, std::string::npos) << path << " lacks the line\n" << kEnd;

  const std::string want = Generated(HandlerRegistry::Build());
  const char* update = std::getenv("COURIER_UPDATE_MAN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::trunc) << page.substr(0, body) << want << page.substr(end);
    return;
  }
  EXPECT_EQ(page.substr(body, end - body), want)
      << "courier-recv(8)'s CHANNEL TYPES section is not what the handlers declare: run `make man-types`";
}

}  // namespace
}  // namespace courier
