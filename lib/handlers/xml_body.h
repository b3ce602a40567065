#pragma once
// The XML a webhook may carry (WeChat's pushes, External's XPath mode),
// parsed as untrusted input: nothing outside the body is ever read, and
// no entity is expanded, so a body can neither name a file or URL for us
// to read into a msg nor blow up in memory (billion laughs).
#include <Poco/AutoPtr.h>
#include <Poco/DOM/Document.h>

#include <string>

#include "core/status.h"

namespace courier::handlers {

// The document of `body`. A body that declares a document type (the one
// place a DTD, and with it any entity, can come from) is refused before
// parsing; so is one that does not parse. The error reads "unable to
// parse request XML: ...".
Result<Poco::AutoPtr<Poco::XML::Document>> ParseXmlBody(const std::string& body);

}  // namespace courier::handlers
