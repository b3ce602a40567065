#include "handlers/xml_body.h"

#include <Poco/DOM/DOMParser.h>
#include <Poco/Exception.h>
#include <Poco/SAX/XMLReader.h>

#include "util/text.h"

namespace courier::handlers {
namespace {

// Whether the prolog (all that may come before the root element) holds a
// DOCTYPE.
bool DeclaresDoctype(const std::string& body) {
  size_t at = 0;
  while ((at = body.find('<', at)) != std::string::npos) {
    if (body.compare(at, 2, "<?") == 0) {
      at = body.find("?>", at + 2);
    } else if (body.compare(at, 4, "<!--") == 0) {
      at = body.find("-->", at + 4);
    } else {
      return ToLower(body.substr(at, 9)) == "<!doctype";
    }
    if (at == std::string::npos) return false;
  }
  return false;
}

}  // namespace

Result<Poco::AutoPtr<Poco::XML::Document>> ParseXmlBody(const std::string& body) {
  if (DeclaresDoctype(body)) return Status::InvalidArgument("unable to parse request XML: a DOCTYPE is not allowed");
  Poco::XML::DOMParser parser;
  // Should a DOCTYPE get past the check all the same.
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
  try {
    Poco::AutoPtr<Poco::XML::Document> document = parser.parseMemory(body.data(), body.size());
    if (document->documentElement() == nullptr)
      return Status::InvalidArgument("unable to parse request XML: no root element");
    return document;
  } catch (const Poco::Exception& e) {
    return Status::InvalidArgument("unable to parse request XML: " + e.displayText());
  }
}

}  // namespace courier::handlers
