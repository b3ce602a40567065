// WebhookRequest::Build: a form whose Content-Type declares a charset
// other than UTF-8 is read in that charset.
#include <gtest/gtest.h>

#include "handlers/handler.h"

namespace courier {
namespace {

TEST(WebhookRequest, FormValuesAreReadInTheDeclaredCharset) {
  struct Case {
    const char* label;
    std::string content_type, body, text;
  };
  const std::vector<Case> cases = {
      {"ISO-8859-1", "application/x-www-form-urlencoded; charset=ISO-8859-1", "text=caf%E9", "café"},
      {"windows-1252, quoted, mixed case", "application/x-www-form-urlencoded; Charset=\"windows-1252\"",
       "text=%80+5", "€ 5"},
      {"UTF-8 declared: as it is", "application/x-www-form-urlencoded; charset=utf-8", "text=caf%C3%A9", "café"},
      {"none declared: as it is (repaired on its way to the store)", "application/x-www-form-urlencoded",
       "text=caf%E9", "caf\xE9"},
      {"a charset iconv does not know: UTF-8 kept, else ISO-8859-1",
       "application/x-www-form-urlencoded;charset=x-unknown", "text=caf%E9", "café"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    auto r = WebhookRequest::Build("POST", "/c/ex/uuid/receive?q=%E9", {{"content-type", c.content_type}}, c.body,
                                   "https://courier.example.com", "receive");
    EXPECT_EQ(r.FormParam("text"), c.text);
    EXPECT_EQ(r.body, c.body);                   // the raw body is kept for signatures
    EXPECT_EQ(r.QueryParam("q"), "\xE9");        // a query string declares no charset
  }
}

}  // namespace
}  // namespace courier
