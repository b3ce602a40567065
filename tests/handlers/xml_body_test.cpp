// ParseXmlBody (handlers/xml_body.h): a DOCTYPE anywhere in the prolog is
// refused before parsing; the same words inside the document are text.
#include "handlers/xml_body.h"

#include <Poco/DOM/Element.h>
#include <gtest/gtest.h>

namespace courier {
namespace {

TEST(XmlBody, ADoctypeInThePrologIsRefused) {
  for (const std::string body :
       {"<!DOCTYPE x><x/>", "<?xml version=\"1.0\"?>\n<!-- a comment -->\n<!doctype x SYSTEM \"file:///etc/passwd\"><x/>",
        "<?xml version=\"1.0\"?><?pi data?><!DocType x [<!ENTITY a \"b\">]><x>&a;</x>"}) {
    SCOPED_TRACE(body);
    auto parsed = handlers::ParseXmlBody(body);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().message(), "unable to parse request XML: a DOCTYPE is not allowed");
  }
}

TEST(XmlBody, ADocumentIsParsedAndGarbageIsNot) {
  auto parsed = handlers::ParseXmlBody("<?xml version=\"1.0\"?><xml><Content><![CDATA[<!DOCTYPE is text>]]></Content></xml>");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ((*parsed)->documentElement()->innerText(), "<!DOCTYPE is text>");
  for (const std::string body : {"", "<x>", "not xml", "<?xml version=\"1.0\"?>"}) {
    SCOPED_TRACE(body);
    auto bad = handlers::ParseXmlBody(body);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().message().rfind("unable to parse request XML: ", 0), 0u) << bad.status().message();
  }
}

}  // namespace
}  // namespace courier
