// EX — External: receive (form, multipart, configured field names, XML),
// status, stop and send tables.
#include "handlers/external.h"

#include <fstream>

#include "handler_harness.h"
#include "temp_dir.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

// The UUID the harness gives every msg it sends, which EX records as the
// msg's external id.
constexpr const char* kMsgUUID = "0191e180-7d60-7000-aded-7d8b151cbd5b";

Channel ExChannel(std::map<std::string, std::string> config = {}) {
  return TestChannel("EX", "+2020", "US", std::move(config));
}

// A multipart/form-data body with boundary "XyZ" (kMultipart) of named
// fields, then a file part that is no field.
constexpr const char* kMultipart = "multipart/form-data; boundary=XyZ";
std::string Multipart(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string body;
  for (const auto& [name, value] : fields)
    body += "--XyZ\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  body += "--XyZ\r\nContent-Disposition: form-data; name=\"text\"; filename=\"photo.jpg\"\r\n"
          "Content-Type: image/jpeg\r\n\r\nJPEG\r\n--XyZ--\r\n";
  return body;
}

// Receive through the handler itself, for what the table does not check
// (the answer's content type) or must check everywhere (a file's content
// in no part of the result).
WebhookResult ReceiveOnce(const ChannelHandler& handler, const Channel& channel, const std::string& action,
                          const std::string& body, const std::string& content_type) {
  const Route* route = nullptr;
  const auto routes = handler.Routes();
  for (const auto& r : routes)
    if (r.method == "POST" && r.action == action) route = &r;
  EXPECT_NE(route, nullptr) << action;
  if (route == nullptr) return WebhookResult::Error("no route");
  auto request = WebhookRequest::Build("POST", "/c/ex/" + channel.uuid + "/" + action, {{"content-type", content_type}},
                                       body, kTestBaseUrl, action);
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  return handler.Receive(*route, channel, request, ctx);
}

TEST(ExternalHandler, Receive) {
  ExternalHandler h;
  RunReceiveCases(h, ExChannel(), {
      {.label = "form post", .action = "receive", .body = "from=%2B2349067554729&text=Join",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join"}}},
      {.label = "query get", .method = "GET", .action = "receive", .query = "sender=%2B2349067554729&text=Join",
       .content_type = "", .msgs = {{.urn = "tel:+2349067554729", .text = "Join"}}},
      // v0.2.0 let `sender` win; since then `from` is looked up first.
      {.label = "from wins over sender", .action = "receive",
       .body = "from=%2B2349067554729&sender=%2B2349067554730&text=hi",
       .msgs = {{.urn = "tel:+2349067554729", .text = "hi"}}},
      {.label = "the first key present wins, even empty", .action = "receive",
       .body = "from=&sender=%2B2349067554730&text=hi", .error = "must have one of 'sender' or 'from' set"},
      {.label = "body field before query field", .action = "receive", .query = "from=%2B2349067554730",
       .body = "from=%2B2349067554729&text=hi", .msgs = {{.urn = "tel:+2349067554729", .text = "hi"}}},
      {.label = "national number in channel country", .action = "receive", .body = "from=2012345678&text=hi",
       .msgs = {{.urn = "tel:+12012345678", .text = "hi"}}},
      {.label = "unicode and control characters", .action = "receive",
       .body = "from=%2B2349067554729&text=Mwaramutse%20%E2%9C%93%01",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Mwaramutse ✓"}}},
      {.label = "date", .action = "receive", .body = "from=%2B2349067554729&text=hi&date=2017-06-23T12:30:00.500Z",
       .msgs = {{.urn = "tel:+2349067554729", .text = "hi", .received_on = ParseRfc3339("2017-06-23T12:30:00.5Z")}}},
      {.label = "time alias", .action = "receive", .body = "from=%2B2349067554729&text=hi&time=2017-06-23T12:30:00Z",
       .msgs = {{.urn = "tel:+2349067554729", .text = "hi", .received_on = ParseRfc3339("2017-06-23T12:30:00Z")}}},
      {.label = "no date: received now", .action = "receive", .body = "from=%2B2349067554729&text=hi",
       .msgs = {{.urn = "tel:+2349067554729", .text = "hi", .no_received_on = true}}},
      {.label = "bad date", .action = "receive", .body = "from=%2B2349067554729&text=hi&date=yesterday",
       .error = "invalid date format, must be RFC 3339"},
      {.label = "no sender", .action = "receive", .body = "text=hi", .error = "must have one of 'sender' or 'from' set"},
      {.label = "no text", .action = "receive", .body = "from=%2B2349067554729", .error = "field 'text' required"},
      {.label = "multipart form", .action = "receive",
       .body = Multipart({{"from", "+2349067554729"}, {"text", "Join"}, {"date", "2017-06-23T12:30:00Z"}}),
       .content_type = kMultipart,
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join", .received_on = ParseRfc3339("2017-06-23T12:30:00Z")}}},
      {.label = "multipart form, sender in the query", .action = "receive", .query = "sender=%2B2349067554729",
       .body = Multipart({{"text", "Join"}}), .content_type = kMultipart,
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join"}}},
      {.label = "multipart form: a file part is no field", .action = "receive",
       .body = Multipart({{"from", "+2349067554729"}}), .content_type = kMultipart, .error = "field 'text' required"},
      {.label = "multipart form without boundary", .action = "receive", .body = Multipart({{"text", "Join"}}),
       .content_type = "multipart/form-data", .error = "unable to parse multipart form: no boundary"},
      {.label = "malformed multipart form", .action = "receive", .body = "--XyZ\r\nno header end",
       .content_type = kMultipart, .error = "unable to parse multipart form: "},
  });
}

TEST(ExternalHandler, ReceiveWithConfiguredFieldNames) {
  ExternalHandler h;
  RunReceiveCases(h, ExChannel({{"mo_from_field", "msisdn"}, {"mo_text_field", "message"}, {"mo_date_field", "at"}}), {
      {.label = "configured names", .action = "receive",
       .body = "msisdn=%2B2349067554729&message=Join&at=2017-06-23T12:30:00Z",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join", .received_on = ParseRfc3339("2017-06-23T12:30:00Z")}}},
      {.label = "configured names before the defaults", .action = "receive",
       .body = "msisdn=%2B2349067554729&from=%2B2349067554730&message=Join&text=other"
               "&at=2017-06-23T12:30:00Z&date=2020-01-01T00:00:00Z",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join", .received_on = ParseRfc3339("2017-06-23T12:30:00Z")}}},
      {.label = "absent configured names fall back to the defaults", .action = "receive",
       .body = "sender=%2B2349067554730&text=hi&time=2017-06-23T12:30:00Z",
       .msgs = {{.urn = "tel:+2349067554730", .text = "hi", .received_on = ParseRfc3339("2017-06-23T12:30:00Z")}}},
      {.label = "configured text field present but empty", .action = "receive",
       .body = "msisdn=%2B2349067554729&message=&text=other", .error = "field 'message' required"},
      {.label = "configured sender present but empty", .action = "receive",
       .body = "msisdn=&from=%2B2349067554730&message=hi", .error = "must have one of 'sender' or 'from' set"},
      {.label = "configured names in a multipart form", .action = "receive",
       .body = Multipart({{"msisdn", "+2349067554729"}, {"message", "Join"}}), .content_type = kMultipart,
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join"}}},
      {.label = "configured date, malformed", .action = "receive", .body = "msisdn=%2B2349067554729&message=hi&at=today",
       .error = "invalid date format, must be RFC 3339"},
  });
}

TEST(ExternalHandler, ReceiveOnTelegramScheme) {
  ExternalHandler h;
  RunReceiveCases(h, TestChannel("EX", "bot", "", {}, {"telegram"}), {
      {.label = "scheme from channel", .action = "receive", .body = "from=12345&text=hi",
       .msgs = {{.urn = "telegram:12345", .text = "hi"}}},
      {.label = "invalid path for scheme", .action = "receive", .body = "from=abc&text=hi", .error = "telegram"},
  });
}

// A gateway that posts SOAP: each XPath form of the subset (external.h).
const char* kSoap = R"(<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <deliver>
      <msisdn type="intl">+2349067554729</msisdn>
      <part n="1">first</part>
      <part n="2"><![CDATA[Join <now> & win]]></part>
      <sender number="+2349067554730"/>
      <date>2017-06-23T12:30:00Z</date>
    </deliver>
  </soap:Body>
</soap:Envelope>)";

TEST(ExternalHandler, ReceiveXmlPaths) {
  ExternalHandler h;
  struct PathCase {
    std::string from_xpath, text_xpath;
    std::string urn, text;  // expected; urn "" expects the error
    std::string error;
  };
  const std::vector<PathCase> cases = {
      {"/soap:Envelope/soap:Body/deliver/msisdn", "/soap:Envelope/soap:Body/deliver/part[2]", "tel:+2349067554729",
       "Join <now> & win"},
      {"soap:Envelope/soap:Body/deliver/msisdn", "soap:Envelope/soap:Body/deliver/part[1]", "tel:+2349067554729",
       "first"},
      {"//msisdn", "//part[@n='1']", "tel:+2349067554729", "first"},
      {"//msisdn[@type='intl']", R"(//deliver/part[@n="2"]/text())", "tel:+2349067554729", "Join <now> & win"},
      {"//sender/@number", "//part", "tel:+2349067554730", "first"},
      {"/soap:Envelope//msisdn", "//soap:Body//part[2]", "tel:+2349067554729", "Join <now> & win"},
      // Outside the subset, or nothing there: the missing-node error.
      {"//msisdn", "//part[last()]", "", "", "missing from at: //msisdn or text at: //part[last()] node"},
      {"//msisdn", "//part[3]", "", "", "missing from at: //msisdn or text at: //part[3] node"},
      {"//msisdn", "//part[0]", "", "", "missing from at"},
      {"//sender[@number]", "//part", "", "", "missing from at"},
      {"//nope", "//part", "", "", "missing from at: //nope or text at: //part node"},
      {"//msisdn", "//part[@n=1]", "", "", "missing from at"},
      {"//msisdn", "//part[@n='1'", "", "", "missing from at"},
      {"//msisdn", "//*", "", "", "missing from at"},
      {"//sender", "//part", "", "", "must have one of 'sender' or 'from' set"},  // an empty element
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.from_xpath + " | " + c.text_xpath);
    ReceiveCase rc{.label = c.from_xpath + " " + c.text_xpath, .action = "receive", .body = kSoap,
                   .content_type = "text/xml", .error = c.error};
    // XML mode reads no date, even one that is there.
    if (c.error.empty()) rc.msgs = {{.urn = c.urn, .text = c.text, .no_received_on = true}};
    RunReceiveCases(h, ExChannel({{"from_xpath", c.from_xpath}, {"text_xpath", c.text_xpath}}), {rc});
  }
}

TEST(ExternalHandler, ReceiveXml) {
  ExternalHandler h;
  const std::string padding(99000, 'a');
  RunReceiveCases(h, ExChannel({{"from_xpath", "/msg/from"}, {"text_xpath", "/msg/text"}}), {
      {.label = "xml", .action = "receive",
       .body = "<msg><from>+2349067554729</from><text>Join &amp; win</text></msg>", .content_type = "application/xml",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join & win"}}},
      {.label = "xml whatever the content type", .action = "receive",
       .body = "<msg><from> 2012345678 </from><text>hi</text></msg>",
       .msgs = {{.urn = "tel:+12012345678", .text = "hi"}}},
      {.label = "xml up to the limit", .action = "receive",
       .body = "<msg><from>+2349067554729</from><text>hi</text><pad>" + padding + "</pad></msg>",
       .content_type = "text/xml", .msgs = {{.urn = "tel:+2349067554729", .text = "hi"}}},
      {.label = "xml past 100,000 bytes is cut off, so malformed", .action = "receive",
       .body = "<msg><from>+2349067554729</from><text>hi</text><pad>" + padding + std::string(1000, 'a') + "</pad></msg>",
       .content_type = "text/xml", .error = "unable to parse request XML: "},
      {.label = "malformed xml", .action = "receive", .body = "<msg><from>+2349067554729</msg>",
       .content_type = "text/xml", .error = "unable to parse request XML: "},
      {.label = "a form is no xml", .action = "receive", .body = "from=%2B2349067554729&text=hi",
       .error = "unable to parse request XML: "},
      {.label = "no text node", .action = "receive", .body = "<msg><from>+2349067554729</from></msg>",
       .content_type = "text/xml", .error = "missing from at: /msg/from or text at: /msg/text node"},
      {.label = "empty text", .action = "receive", .body = "<msg><from>+2349067554729</from><text/></msg>",
       .content_type = "text/xml", .error = "no text at: /msg/text"},
  });
  // One path alone is form mode.
  RunReceiveCases(h, ExChannel({{"from_xpath", "/msg/from"}}), {
      {.label = "form with only from_xpath", .action = "receive", .body = "from=%2B2349067554729&text=hi",
       .msgs = {{.urn = "tel:+2349067554729", .text = "hi"}}},
  });
}

// A DOCTYPE may name a file for the parser to read into the msg, directly
// or through a DTD; with XML mode on a webhook must not get us to read
// it: no part of what we store or answer holds the file's content.
TEST(ExternalHandler, ReceiveXmlReadsNoExternalEntity) {
  ExternalHandler h;
  ScratchDir dir;
  const std::string secret_path = dir.path() + "/secret.txt";
  const std::string dtd_path = dir.path() + "/leak.dtd";
  // Letters and digits, which a tel URN keeps.
  const std::string marker = "topsecret8c1f";
  std::ofstream(secret_path) << marker;
  std::ofstream(dtd_path) << "<!ENTITY leak \"" << marker << "\">";
  const Channel channel = ExChannel({{"from_xpath", "/msg/from"}, {"text_xpath", "/msg/text"}});
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"general entity",
       "<?xml version=\"1.0\"?><!DOCTYPE msg [<!ENTITY leak SYSTEM \"file://" + secret_path +
           "\">]><msg><from>+2349067554729</from><text>x &leak;</text></msg>"},
      {"general entity in the sender",
       "<?xml version=\"1.0\"?><!DOCTYPE msg [<!ENTITY leak SYSTEM \"file://" + secret_path +
           "\">]><msg><from>&leak;</from><text>x</text></msg>"},
      {"parameter entity",
       "<?xml version=\"1.0\"?><!DOCTYPE msg [<!ENTITY % dtd SYSTEM \"file://" + dtd_path +
           "\"> %dtd;]><msg><from>+2349067554729</from><text>x &leak;</text></msg>"},
      {"external DTD",
       "<?xml version=\"1.0\"?><!DOCTYPE msg SYSTEM \"file://" + dtd_path +
           "\"><msg><from>+2349067554729</from><text>x &leak;</text></msg>"},
  };
  for (const auto& [label, body] : bodies) {
    SCOPED_TRACE(label);
    const WebhookResult r = ReceiveOnce(h, channel, "receive", body, "text/xml");
    EXPECT_EQ(r.error.find(marker), std::string::npos) << r.error;
    for (const auto& m : r.msgs) {
      EXPECT_EQ(m.text.find(marker), std::string::npos) << m.text;
      EXPECT_EQ(m.urn.find(marker), std::string::npos) << m.urn;
    }
    if (r.response_body) {
      EXPECT_EQ(r.response_body->find(marker), std::string::npos);
    }
  }
  // The general entity is refused outright, not read and dropped.
  EXPECT_NE(ReceiveOnce(h, channel, "receive", bodies[0].second, "text/xml").error.find("unable to parse request XML"),
            std::string::npos);
  // So are entities inside the body, which could multiply a small body
  // into gigabytes (billion laughs).
  std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE msg [<!ENTITY l0 \"ha\">";
  for (int i = 1; i < 10; ++i) {
    laughs += "<!ENTITY l" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) laughs += "&l" + std::to_string(i - 1) + ";";
    laughs += "\">";
  }
  laughs += "]><msg><from>+2349067554729</from><text>&l9;</text></msg>";
  const WebhookResult laughed = ReceiveOnce(h, channel, "receive", laughs, "text/xml");
  EXPECT_NE(laughed.error.find("a DOCTYPE is not allowed"), std::string::npos) << laughed.error;
  EXPECT_TRUE(laughed.msgs.empty());
}

// A malformed multipart body the fuzzer found, on which POCO's reader
// yields bytes without end: refused, at once.
TEST(ExternalHandler, AMultipartBodyThatNeverEndsIsRefused) {
  ExternalHandler h;
  const std::string body("\x2d\x2d\x58\x79\x5a\x0d\x0a\x43\x66\x6f\x72\x6d\x2d\x64\x61\x74\x61\x3b\x20\x62\x6f\x75\x22\x64\x61\x74\x65\x22\x0d\x0a\x0d\x0a\x2d\x46\x42\x20\x47\x45\x54\x20\x72\x65\x63\x65\x69\x76\x65\x0a\x25\x61\x64\x64\x72\x65\x73\x73\x3d\x31\x32\x33\x34\x35\x0a\x25\x73\x63\x68\x65\x6d\x65\x73\x3d\x66\x61\x63\x65\x62\x6f\x6f\x6b\x0a\x25\x63\x6f\x6e\x66\x69\x67\x2e\x61\x75\x74\x68\x5f\x74\x6f\x6b\x65\x6e\x3d\x45\x41\x41\x47\x6c\x65\x67\x61\x63\x79\x70\x61\x67\x65\x74\x6f\x6b\x65\x6e\x39\x66\x38\x65\x37\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x73\x69\x67\x6e\x61\x74\x75\x72\x65\x5f\x6d\x65\x74\x68\x6f\x64\x4a\x53\x20\x50\x4f\x53\x54\x20\x72\x65\x63\x65\x69\x76\x65\x0a\x25\x61\x64\x64\x72\x65\x73\x73\x3d\x32\x30\x32\x30\x0a\x25\x63\x6f\x75\x6e\x74\x72\x79\x3d\x55\x53\x0a\x25\x73\x63\x68\x65\x6d\x65\x73\x3d\x74\x65\x6c\x0a\x25\x63\x6f\x6e\x66\x69\x67\x2e\x70\x61\x33\x73\x77\x6f\x72\x64\x3d\x6a\x73\x2d\x73\x33\x63\x72\x65\x74\x0a\x25\x30\x36\x2d\x32\x33\x54\x31\x32\x3a\x33\x63\x6f\x6e\x66\x69\x67\x2e\x73\x65\x6e\x64\x5f\x75\x72\x6c\x3d\x7b\x7b\x6d\x6f\x63\x6b\x7d\x7d\x2f\x73\x65\x6e\x64\x0a\x25\x63\x6f\x6e\x66\x69\x67\x2e\x75\x73\x4e\x34\x50\x6f\x63\x6f\x33\x58\x4d\x4c\x31\x32\x58\x4d\x4c\x45\x78\x65\x72\x6e\x61\x6d\x65\x3d\x66\x6f\x6f\x10\x10\x31\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x30\x3a\x30\x30\x5a\x0d\x0a\x2d\x2d\x58\x79\x5a\x0d\x0a\x43\x6f\x6e\x74\x65\x6e\x74\x2d\x44\x69\x73\x70\x10\x10\x10\x64\x0a\x25\x63\x6f\x6e\x66\x69\x67\x2e\x62\x61\x73\x65\x5f\x75\x72\x6c\x3d\x68\x6f\x73\x74\x74\x70\x3a\x2f\x2f\x31\x32\x37\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 406);
  const WebhookResult r = ReceiveOnce(h, ExChannel({}), "receive", body, "multipart/fOrm-data; boundary=XyZ");
  EXPECT_NE(r.error.find("unable to parse multipart form"), std::string::npos) << r.error;
}

TEST(ExternalHandler, MoResponse) {
  ExternalHandler h;
  const Channel channel = ExChannel({{"mo_response", "<Response>OK</Response>"}, {"mo_response_content_type", "text/xml"}});
  RunReceiveCases(h, channel, {
      {.label = "the configured answer", .action = "receive", .body = "from=%2B2349067554729&text=Join",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join"}}, .response_body = "<Response>OK</Response>"},
  });
  WebhookResult received = ReceiveOnce(h, channel, "receive", "from=%2B2349067554729&text=Join",
                                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(received.response_body.has_value());
  EXPECT_EQ(*received.response_body, "<Response>OK</Response>");
  EXPECT_EQ(received.response_content_type, "text/xml");

  // Errors, statuses and stops keep our JSON answer.
  WebhookResult refused = ReceiveOnce(h, channel, "receive", "text=Join", "application/x-www-form-urlencoded");
  EXPECT_FALSE(refused.error.empty());
  EXPECT_FALSE(refused.response_body.has_value());
  WebhookResult status = ReceiveOnce(h, channel, "delivered", "id=12", "application/x-www-form-urlencoded");
  EXPECT_EQ(status.statuses.size(), 1u);
  EXPECT_FALSE(status.response_body.has_value());
  WebhookResult stop = ReceiveOnce(h, channel, "stopped", "from=%2B2349067554729", "application/x-www-form-urlencoded");
  EXPECT_EQ(stop.stop_urns.size(), 1u);
  EXPECT_FALSE(stop.response_body.has_value());

  // Without a content type the receiver answers text/plain.
  WebhookResult plain = ReceiveOnce(h, ExChannel({{"mo_response", "OK"}}), "receive", "from=%2B2349067554729&text=Join",
                                    "application/x-www-form-urlencoded");
  ASSERT_TRUE(plain.response_body.has_value());
  EXPECT_EQ(*plain.response_body, "OK");
  EXPECT_EQ(plain.response_content_type, "");

  // And XML mode answers the same way.
  RunReceiveCases(h, ExChannel({{"from_xpath", "//from"}, {"text_xpath", "//text"}, {"mo_response", "<ok/>"}}), {
      {.label = "xml with the configured answer", .action = "receive",
       .body = "<msg><from>+2349067554729</from><text>Join</text></msg>", .content_type = "text/xml",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join"}}, .response_body = "<ok/>"},
  });
}

TEST(ExternalHandler, StatusAndStop) {
  ExternalHandler h;
  RunReceiveCases(h, ExChannel(), {
      {.label = "delivered", .action = "delivered", .body = "id=12345",
       .statuses = {{.status = MsgStatus::kDelivered, .msg_id = 12345}}},
      {.label = "sent by GET", .method = "GET", .action = "sent", .query = "id=12", .content_type = "",
       .statuses = {{.status = MsgStatus::kSent, .msg_id = 12}}},
      {.label = "failed", .action = "failed", .body = "id=12", .statuses = {{.status = MsgStatus::kFailed, .msg_id = 12}}},
      // A UUID names the msg by the UUID Send recorded as its external id.
      {.label = "uuid", .action = "delivered", .body = std::string("uuid=") + kMsgUUID,
       .statuses = {{.status = MsgStatus::kDelivered, .msg_uuid = kMsgUUID}}},
      {.label = "uuid in id", .method = "GET", .action = "sent", .query = std::string("id=") + kMsgUUID,
       .content_type = "", .statuses = {{.status = MsgStatus::kSent, .msg_uuid = kMsgUUID}}},
      {.label = "uuid in upper case", .action = "failed", .body = "uuid=0191E180-7D60-7000-ADED-7D8B151CBD5B",
       .statuses = {{.status = MsgStatus::kFailed, .msg_uuid = kMsgUUID}}},
      {.label = "uuid wins over id", .action = "delivered",
       .body = "id=9a8b7c6d-0000-4000-8000-000000000001&uuid=" + std::string(kMsgUUID),
       .statuses = {{.status = MsgStatus::kDelivered, .msg_uuid = kMsgUUID}}},
      {.label = "uuid wins over a numeric id", .action = "delivered", .body = "id=12&uuid=" + std::string(kMsgUUID),
       .statuses = {{.status = MsgStatus::kDelivered, .msg_uuid = kMsgUUID}}},
      {.label = "a numeric id when uuid is no UUID", .action = "delivered", .body = "id=12&uuid=junk",
       .statuses = {{.status = MsgStatus::kDelivered, .msg_id = 12}}},
      {.label = "in a multipart form", .action = "sent", .body = Multipart({{"id", "12"}}), .content_type = kMultipart,
       .statuses = {{.status = MsgStatus::kSent, .msg_id = 12}}},
      // v0.2.0 said "field 'id' required" and "must be an integer".
      {.label = "missing id and uuid", .action = "delivered", .body = "",
       .error = "parameters id or uuid should not be empty"},
      {.label = "empty id and uuid", .action = "delivered", .body = "id=&uuid=",
       .error = "parameters id or uuid should not be empty"},
      {.label = "non-numeric id", .action = "delivered", .body = "id=abc",
       .error = "parsing failed: id 'abc' and uuid '' are not valid UUIDs"},
      {.label = "neither a UUID", .action = "delivered", .body = "id=-5&uuid=1234",
       .error = "parsing failed: id '-5' and uuid '1234' are not valid UUIDs"},
      {.label = "an id too large for ours", .action = "delivered", .body = "id=12345678901234567890",
       .error = "are not valid UUIDs"},
      {.label = "stopped", .action = "stopped", .body = "from=%2B2349067554729",
       .stop_urns = {"tel:+2349067554729"}},
      {.label = "stopped by GET", .method = "GET", .action = "stopped", .query = "from=2012345678", .content_type = "",
       .stop_urns = {"tel:+12012345678"}},
      {.label = "stopped with the older sender", .action = "stopped", .body = "sender=%2B2349067554729",
       .stop_urns = {"tel:+2349067554729"}},
      // v0.2.0 said "must have one of 'sender' or 'from' set".
      {.label = "stopped without from", .action = "stopped", .body = "", .error = "field 'from' required"},
      {.label = "stopped with an empty from", .action = "stopped", .body = "from=&sender=%2B2349067554729",
       .error = "field 'from' required"},
  });
}

TEST(ExternalHandler, Send) {
  ExternalHandler h;
  Channel form = ExChannel({{"send_url", "{{mock}}/send?to={{to}}"}, {"password", "s3cr3tpw"}});
  RunSendCases(h, form, {
      {.label = "default form body", .requests = {{.path = "/send", .form = {{"id", "10"}, {"text", "Simple Message"}, {"to", "+250788383383"},
                                               {"to_no_plus", "250788383383"}, {"from", "+2020"},
                                               {"from_no_plus", "2020"}, {"channel", kTestChannelUUID}},
                     .params = {{"to", "+250788383383"}},
                     .headers = {{"content-type", "application/x-www-form-urlencoded"}}}}},
      {.label = "unicode and attachment as link", .text = "☺",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .requests = {{.path = "/send", .form = {{"text", "☺\nhttps://foo.bar/image.jpg"}}}}},
      {.label = "provider error", .responses = {{"/send", {.status = 500, .body = "oops"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {{.path = "/send"}}},
      {.label = "a 400 is permanent", .responses = {{"/send", {.status = 400, .body = "invalid number"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400", .requests = {{.path = "/send"}}},
      {.label = "throttled", .responses = {{"/send", {.status = 429, .body = "slow down", .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .requests = {{.path = "/send"}}, .throttled_for_seconds = 7},
      {.label = "long text is split at whitespace, 160 bytes by default",
       .text = std::string(150, 'a') + " " + std::string(20, 'b'), .requests = {{.path = "/send", .form = {{"text", std::string(150, 'a')}}},
                    {.path = "/send", .form = {{"text", std::string(20, 'b')}}}}},
      {.label = "a later part's failure fails the msg", .text = std::string(150, 'a') + " " + std::string(20, 'b'),
       .responses = {{"/send", {.body = "ok"}}, {"/send", {.status = 503, .body = "busy"}}},
       .status = MsgStatus::kErrored, .error = "503", .requests = {{.path = "/send"}, {.path = "/send"}}},
  });

  Channel json = ExChannel({{"send_url", "{{mock}}/json"}, {"content_type", "application/json"},
                            {"send_body", "{\"to\":{{to}},\"text\":{{text}}}"}, {"send_method", "PUT"}});
  RunSendCases(h, json, {
      {.label = "json body, quoted", .text = "say \"hi\"", .requests = {{.method = "PUT", .path = "/json", .headers = {{"content-type", "application/json"}},
                     .body = "{\"to\":\"+250788383383\",\"text\":\"say \\\"hi\\\"\"}"}}},
      // A variable's name in the msg's text is sent as written.
      {.label = "text that names a variable", .text = "call {{to}}", .requests = {{.method = "PUT", .path = "/json", .body = "{\"to\":\"+250788383383\",\"text\":\"call {{to}}\"}"}}},
  });

  // {{quick_replies}}: the text replies in the target's syntax, on the
  // last part only (a location or url reply is no text).
  Channel json_replies = ExChannel({{"send_url", "{{mock}}/json"}, {"content_type", "application/json"},
                                    {"send_body", R"({"text":{{text}},"replies":{{quick_replies}}})"},
                                    {"max_length", "10"}});
  RunSendCases(h, json_replies, {
      {.label = "json quick replies", .text = "Coming?", .requests = {{.path = "/json", .body = R"({"text":"Coming?","replies":["Yes","No \"way\""]})"}},
       .quick_replies = {"Yes", "No \"way\"", QuickReply::Location("Here")}},
      {.label = "json quick replies on the last part; none before", .text = "first part second",
       .requests = {{.path = "/json", .body = R"({"text":"first part","replies":[]})"},
                    {.path = "/json", .body = R"({"text":"second","replies":["Yes"]})"}},
       .quick_replies = {"Yes"}},
      {.label = "json without quick replies", .requests = {{.path = "/json", .body = R"({"text":"Simple","replies":[]})"},
                    {.path = "/json", .body = R"({"text":"Message","replies":[]})"}}},
  });
  Channel xml_replies = ExChannel({{"send_url", "{{mock}}/xml"}, {"content_type", "text/xml"},
                                   {"send_body", "<msg><text>{{text}}</text><replies>{{quick_replies}}</replies></msg>"}});
  RunSendCases(h, xml_replies, {
      {.label = "xml quick replies", .text = "Pick", .requests = {{.path = "/xml", .headers = {{"content-type", "text/xml"}},
                     .body = "<msg><text>Pick</text><replies><item>A &amp; B</item><item>C</item></replies></msg>"}},
       .quick_replies = {"A & B", "C"}},
      {.label = "xml without quick replies", .text = "Pick", .requests = {{.path = "/xml", .body = "<msg><text>Pick</text><replies></replies></msg>"}}},
  });
  Channel url_replies = ExChannel({{"send_url", "{{mock}}/send?text={{text}}{{quick_replies}}"}, {"send_method", "GET"}});
  RunSendCases(h, url_replies, {
      {.label = "quick replies in the URL", .text = "Pick", .requests = {{.method = "GET", .path = "/send", .params = {{"text", "Pick"}, {"quick_reply", "A & B"}}}},
       .quick_replies = {"A & B", QuickReply::Url("Site", "https://x.example")}},
  });

  Channel xml = ExChannel({{"send_url", "{{mock}}/xml"}, {"content_type", "text/xml; charset=utf-8"},
                           {"send_body", "<msg><text>{{text}}</text></msg>"}});
  RunSendCases(h, xml, {
      {.label = "xml body, escaped", .text = "a < b & c", .requests = {{.path = "/xml", .body = "<msg><text>a &lt; b &amp; c</text></msg>"}}},
  });

  Channel get = ExChannel({{"send_url", "{{mock}}/get?text={{text}}&to={{to_no_plus}}"}, {"send_method", "GET"},
                           {"mt_response_check", "SENT"}});
  RunSendCases(h, get, {
      {.label = "GET with query and response check, Content-Type too", .responses = {{"/get", {.body = "SENT ok"}}},
       .requests = {{.method = "GET", .path = "/get", .params = {{"text", "Simple Message"}, {"to", "250788383383"}},
                     .headers = {{"content-type", "application/x-www-form-urlencoded"}}}}},
      {.label = "response check fails on a 2xx: may be taken, so failed", .responses = {{"/get", {.body = "nope"}}},
       .status = MsgStatus::kFailed,
       .error = "response did not contain 'SENT'", .requests = {{.method = "GET", .path = "/get"}}},
      {.label = "every part's answer is checked", .text = std::string(150, 'a') + " " + std::string(20, 'b'),
       .responses = {{"/get", {.body = "SENT"}}, {"/get", {.body = "QUEUED"}}}, .status = MsgStatus::kFailed,
       .error = "response did not contain 'SENT'",
       .requests = {{.method = "GET", .path = "/get"}, {.method = "GET", .path = "/get"}}},
  });

  RunSendCases(h, ExChannel(), {
      {.label = "no send_url", .status = MsgStatus::kErrored, .error = "no send_url", .requests = {}, .logs = 1},
  });
}

TEST(ExternalHandler, SendVariables) {
  ExternalHandler h;
  Channel vars = ExChannel({{"send_url",
                             "{{mock}}/vars?id={{id}}&uuid={{uuid}}&channel={{channel}}&session={{session_status}}"
                             "&from={{from}}&from_no_plus={{from_no_plus}}&to={{to}}&to_no_plus={{to_no_plus}}"},
                            {"send_method", "GET"}});
  RunSendCases(h, vars, {
      // {{id}} is our integer id (the reference's is the UUID); there is
      // no flow session, so {{session_status}} is empty.
      {.label = "every variable in the URL", .msg_id = 77, .requests = {{.method = "GET", .path = "/vars",
                     .params = {{"id", "77"}, {"uuid", kMsgUUID}, {"channel", kTestChannelUUID}, {"session", ""},
                                {"from", "+2020"}, {"from_no_plus", "2020"}, {"to", "+250788383383"},
                                {"to_no_plus", "250788383383"}}}}},
  });
  Channel body_vars = ExChannel({{"send_url", "{{mock}}/vars"}, {"content_type", "json"},
                                 {"send_body", R"({"id":{{id}},"uuid":{{uuid}},"session":{{session_status}}})"}});
  RunSendCases(h, body_vars, {
      {.label = "variables in a JSON body", .requests = {{.path = "/vars", .body = R"({"id":"10","uuid":")" + std::string(kMsgUUID) + R"(","session":""})"}}},
  });

  Channel national = TestChannel("EX", "+250788000000", "RW",
                                 {{"send_url", "{{mock}}/send?to={{to}}&to_no_plus={{to_no_plus}}"},
                                  {"send_method", "GET"}, {"use_national", "true"}});
  RunSendCases(h, national, {
      {.label = "use_national: the number inside the country", .requests = {{.method = "GET", .path = "/send", .params = {{"to", "788383383"}, {"to_no_plus", "788383383"}}}}},
      {.label = "use_national: no leading zero", .urn = "tel:+390612345678", .requests = {{.method = "GET", .path = "/send", .params = {{"to", "612345678"}, {"to_no_plus", "612345678"}}}}},
  });
  Channel international = TestChannel("EX", "+250788000000", "RW",
                                      {{"send_url", "{{mock}}/send?to={{to}}"}, {"send_method", "GET"},
                                       {"use_national", "false"}});
  RunSendCases(h, international, {
      {.label = "use_national false", .requests = {{.method = "GET", .path = "/send", .params = {{"to", "+250788383383"}}}}},
  });
}

TEST(ExternalHandler, SendContentTypes) {
  ExternalHandler h;
  Channel json = ExChannel({{"send_url", "{{mock}}/json"}, {"content_type", "json"}, {"send_method", "put"},
                            {"send_body", R"({"text":{{text}},"replies":{{quick_replies}}})"}});
  RunSendCases(h, json, {
      {.label = "json: quoted, application/json", .text = "say \"hi\"\n", .requests = {{.method = "PUT", .path = "/json", .headers = {{"content-type", "application/json"}},
                     .body = R"({"text":"say \"hi\"\n","replies":["Yes"]})"}},
       .quick_replies = {"Yes"}},
  });
  Channel xml = ExChannel({{"send_url", "{{mock}}/xml"}, {"content_type", "xml"},
                           {"send_body", "<m><t>{{text}}</t>{{quick_replies}}</m>"}});
  RunSendCases(h, xml, {
      {.label = "xml: escaped, newline as a character reference", .text = "line 1\nline <2>", .requests = {{.path = "/xml", .headers = {{"content-type", "text/xml; charset=utf-8"}},
                     .body = "<m><t>line 1&#xA;line &lt;2&gt;</t><item>&lt;ok&gt;</item></m>"}},
       .quick_replies = {"<ok>"}},
  });
  Channel form = ExChannel({{"send_url", "{{mock}}/form"}, {"content_type", "urlencoded"},
                            {"send_body", "msg={{text}}&to={{to}}{{quick_replies}}"}});
  RunSendCases(h, form, {
      {.label = "urlencoded: query-escaped", .text = "a&b=c", .requests = {{.path = "/form", .form = {{"msg", "a&b=c"}, {"to", "+250788383383"}, {"quick_reply", "Yes & no"}},
                     .headers = {{"content-type", "application/x-www-form-urlencoded"}},
                     .body = "msg=a%26b%3Dc&to=%2B250788383383&quick_reply=Yes%20%26%20no"}},
       .quick_replies = {"Yes & no"}},
  });
  // Any other content type is the header itself, and the body takes the
  // variables as they are.
  Channel verbatim = ExChannel({{"send_url", "{{mock}}/plain"}, {"content_type", "text/plain; charset=utf-8"},
                                {"send_body", "{{text}} for {{to}}{{quick_replies}}"}});
  RunSendCases(h, verbatim, {
      {.label = "verbatim content type", .text = "a & <b> \"c\"", .requests = {{.path = "/plain", .headers = {{"content-type", "text/plain; charset=utf-8"}},
                     .body = "a & <b> \"c\" for +250788383383&quick_reply=Yes%20%26%20no"}},
       .quick_replies = {"Yes & no"}},
  });
  // A media type spelled out (as channels set before the short names)
  // keeps its escaping.
  Channel literal_json = ExChannel({{"send_url", "{{mock}}/json"}, {"content_type", "application/vnd.api+json"},
                                    {"send_body", R"({"text":{{text}}})"}});
  RunSendCases(h, literal_json, {
      {.label = "a JSON media type is quoted", .text = "a\"b", .requests = {{.path = "/json", .headers = {{"content-type", "application/vnd.api+json"}},
                     .body = R"({"text":"a\"b"})"}}},
  });
  Channel no_body = ExChannel({{"send_url", "{{mock}}/del?text={{text}}"}, {"send_method", "DELETE"},
                               {"send_body", "never {{text}}"}});
  RunSendCases(h, no_body, {
      {.label = "a body only for POST and PUT", .requests = {{.method = "DELETE", .path = "/del", .params = {{"text", "Simple Message"}}}}},
  });
}

TEST(ExternalHandler, SendEncoding) {
  ExternalHandler h;
  Channel smart = ExChannel({{"send_url", "{{mock}}/send"}, {"encoding", "s"}});
  RunSendCases(h, smart, {
      {.label = "smart: look-alikes when they make the part GSM7", .text = "“Hi” it’s–ok", .requests = {{.path = "/send", .form = {{"text", "\"Hi\" it's-ok"}}}}},
      {.label = "smart: a part that stays outside GSM7 is sent as written", .text = "“Hi” ☺", .requests = {{.path = "/send", .form = {{"text", "“Hi” ☺"}}}}},
  });
  // Parts are cut from the text as written, then each is judged alone.
  Channel smart_parts = ExChannel({{"send_url", "{{mock}}/send"}, {"encoding", "S"}, {"max_length", "8"}});
  RunSendCases(h, smart_parts, {
      {.label = "smart: each part on its own", .text = "“abcde” ☺ab", .requests = {{.path = "/send", .form = {{"text", "\"abcde\""}}}, {.path = "/send", .form = {{"text", "☺ab"}}}}},
  });
  Channel as_written = ExChannel({{"send_url", "{{mock}}/send"}, {"encoding", "D"}});
  RunSendCases(h, as_written, {
      {.label = "default: as written", .text = "“Hi” it’s", .requests = {{.path = "/send", .form = {{"text", "“Hi” it’s"}}}}},
  });
}

TEST(ExternalHandler, SendHeaders) {
  ExternalHandler h;
  Channel authorized = ExChannel({{"send_url", "{{mock}}/send"}, {"send_authorization", "Bearer s3cr3t-t0ken"}});
  RunSendCases(h, authorized, {
      {.label = "send_authorization", .requests = {{.path = "/send", .headers = {{"authorization", "Bearer s3cr3t-t0ken"}}}}},
  });
  Channel headers = ExChannel({{"send_url", "{{mock}}/send"}, {"send_authorization", "Bearer s3cr3t-t0ken"},
                               {"send_headers", R"({"X-Api-Version": "2", "X-Retries": 3, "Authorization": "Token abc"})"}});
  RunSendCases(h, headers, {
      {.label = "send_headers, after send_authorization", .requests = {{.path = "/send", .headers = {{"authorization", "Token abc"}, {"x-api-version", "2"},
                                                  {"x-retries", "3"},
                                                  {"content-type", "application/x-www-form-urlencoded"}}}}},
  });
  Channel content_type = ExChannel({{"send_url", "{{mock}}/send"}, {"content_type", "json"},
                                    {"send_body", R"({"text":{{text}}})"},
                                    {"send_headers", R"({"content-type": "application/vnd.gw+json"})"}});
  RunSendCases(h, content_type, {
      {.label = "send_headers may replace Content-Type", .requests = {{.path = "/send", .headers = {{"content-type", "application/vnd.gw+json"}},
                     .body = R"({"text":"Simple Message"})"}}},
  });

  // Settings no request can carry fail the msg before any is made.
  struct Bad {
    std::string key, value, error;
  };
  const std::vector<Bad> bad = {
      {"send_headers", "[\"X-A\", \"1\"]", "send_headers is not a JSON object"},
      {"send_headers", "X-A: 1", "send_headers is not a JSON object"},
      {"send_headers", R"({"X-A": {"b": 1}})", "send_headers: the value of 'X-A' is not text"},
      {"send_headers", R"({"X-A": null})", "send_headers: the value of 'X-A' is not text"},
      {"send_headers", R"({"X A": "1"})", "send_headers: 'X A' is not a header name"},
      {"send_headers", R"({"X-A": "1\r\nX-Injected: 2"})", "send_headers: the value of 'X-A' holds a line break"},
      {"send_authorization", "Bearer abc\r\nX-Injected: 2", "send_authorization holds a line break"},
      {"content_type", "text/plain\nX-Injected: 2", "content_type holds a line break"},
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(b.key + "=" + b.value);
    RunSendCases(h, ExChannel({{"send_url", "{{mock}}/send"}, {b.key, b.value}}), {
        {.label = "bad " + b.key, .status = MsgStatus::kFailed, .error = b.error, .requests = {}, .logs = 1},
    });
  }
}

// External signs nothing: with a webhook_token set, a webhook must carry it.
TEST(ExternalHandler, WebhookToken) {
  ExternalHandler h;
  RunReceiveCases(h, ExChannel({{"webhook_token", kWebhookToken}}), WebhookTokenCases({.label = "form post", .action = "receive", .body = "from=%2B2349067554729&text=Join", .msgs = {{.urn = "tel:+2349067554729", .text = "Join"}}}));
}

}  // namespace
