#include "core/json.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "util/utf8.h"

namespace courier::json {

ObjectPtr NewObject() { return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER); }
ArrayPtr NewArray() { return new Poco::JSON::Array(); }

// Poco writes a string's bytes as they are, ill-formed UTF-8 included;
// outside strings JSON is ASCII, so repairing the text repairs them.
std::string Stringify(const ObjectPtr& object) {
  std::ostringstream out;
  object->stringify(out);
  std::string text = out.str();
  MakeValidUtf8(text);
  return text;
}

std::string Stringify(const ArrayPtr& array) {
  std::ostringstream out;
  array->stringify(out);
  std::string text = out.str();
  MakeValidUtf8(text);
  return text;
}

Result<ObjectPtr> ParseObject(const std::string& text) {
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var v = parser.parse(text);
    if (v.type() != typeid(ObjectPtr)) return Status::InvalidArgument("expected a JSON object");
    return v.extract<ObjectPtr>();
  } catch (const Poco::Exception& e) {
    return Status::InvalidArgument("invalid JSON: " + e.message());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("invalid JSON: ") + e.what());
  }
}

// Object::get is one lookup and yields an empty Var for an absent key and
// for null; has() and isNull() before it were two more (every field of
// every intake and webhook read).
std::optional<std::string> GetString(const ObjectPtr& o, const std::string& key) {
  if (!o) return std::nullopt;
  Poco::Dynamic::Var v = o->get(key);
  if (!v.isString()) return std::nullopt;
  return v.extract<std::string>();
}

std::optional<int64_t> GetInt(const ObjectPtr& o, const std::string& key) {
  if (!o) return std::nullopt;
  Poco::Dynamic::Var v = o->get(key);
  if (!v.isInteger()) return std::nullopt;
  try {
    return v.convert<int64_t>();
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

std::optional<bool> GetBool(const ObjectPtr& o, const std::string& key) {
  if (!o) return std::nullopt;
  Poco::Dynamic::Var v = o->get(key);
  if (!v.isBoolean()) return std::nullopt;
  return v.extract<bool>();
}

std::string GetStringOrEmpty(const ObjectPtr& o, const std::string& key) { return GetString(o, key).value_or(""); }

ObjectPtr GetObject(const ObjectPtr& o, const std::string& key) {
  if (!o) return nullptr;
  return o->getObject(key);  // null when absent, null or not an object
}

std::vector<ObjectPtr> GetObjects(const ObjectPtr& o, const std::string& key) {
  std::vector<ObjectPtr> out;
  if (!o) return out;
  ArrayPtr a = o->getArray(key);
  for (unsigned i = 0; a && i < a->size(); ++i)
    if (ObjectPtr x = a->getObject(i)) out.push_back(x);
  return out;
}

ArrayPtr GetArray(const ObjectPtr& o, const std::string& key) {
  if (!o) return nullptr;
  return o->getArray(key);  // null when absent, null or not an array
}

std::vector<ObjectPtr> Objects(const ArrayPtr& a) {
  std::vector<ObjectPtr> out;
  for (unsigned i = 0; a && i < a->size(); ++i)
    if (ObjectPtr x = a->getObject(i)) out.push_back(x);
  return out;
}

std::optional<std::string> ScalarText(const Poco::Dynamic::Var& value) {
  try {
    if (value.isEmpty()) return std::nullopt;
    if (value.isString()) return value.extract<std::string>();
    if (value.isNumeric() || value.isBoolean()) return value.convert<std::string>();
  } catch (const Poco::Exception&) {
  }
  return std::nullopt;
}

std::optional<std::string> GetText(const ObjectPtr& o, const std::string& key) {
  if (!o) return std::nullopt;
  return ScalarText(o->get(key));
}

std::string GetTextOrEmpty(const ObjectPtr& o, const std::string& key) { return GetText(o, key).value_or(""); }

std::optional<double> GetNumber(const ObjectPtr& o, const std::string& key) {
  if (!o) return std::nullopt;
  try {
    Poco::Dynamic::Var v = o->get(key);
    if (v.isNumeric()) return v.convert<double>();
  } catch (const Poco::Exception&) {
  }
  return std::nullopt;
}

std::optional<double> GetNumberLoose(const ObjectPtr& o, const std::string& key) {
  if (auto n = GetNumber(o, key)) return n;
  const auto s = GetString(o, key);
  if (!s || s->empty()) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(s->c_str(), &end);
  if (*end != '\0') return std::nullopt;
  return d;
}

std::optional<int64_t> GetIntLoose(const ObjectPtr& o, const std::string& key) {
  if (auto n = GetInt(o, key)) return n;
  if (auto s = GetString(o, key)) {
    errno = 0;
    char* end = nullptr;
    const long long n = std::strtoll(s->c_str(), &end, 10);
    if (!s->empty() && *end == '\0' && errno == 0) return n;
  }
  return std::nullopt;
}

std::string GetId(const ObjectPtr& o, const std::string& key) {
  if (!o) return "";
  try {
    Poco::Dynamic::Var v = o->get(key);
    if (v.isString()) return v.extract<std::string>();
    if (v.isInteger()) return v.convert<std::string>();
    if (v.isNumeric()) {  // a whole number written as a double (1.5e20)
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.0f", v.convert<double>());
      return buf;
    }
  } catch (const Poco::Exception&) {
  }
  return "";
}

Result<std::vector<std::string>> GetStringArray(const ObjectPtr& o, const std::string& key) {
  std::vector<std::string> out;
  if (!o || !o->has(key) || o->isNull(key)) return out;
  ArrayPtr arr = o->getArray(key);
  if (!arr) return Status::InvalidArgument("field '" + key + "' must be an array of strings");
  for (size_t i = 0; i < arr->size(); ++i) {
    Poco::Dynamic::Var v = arr->get(static_cast<unsigned>(i));
    if (!v.isString()) return Status::InvalidArgument("field '" + key + "' must be an array of strings");
    out.push_back(v.extract<std::string>());
  }
  return out;
}

void SetTime(ObjectPtr o, const std::string& key, std::optional<Micros> t) {
  if (t) o->set(key, FormatRfc3339(*t));
  else o->set(key, Poco::Dynamic::Var());
}

void SetNullableString(ObjectPtr o, const std::string& key, const std::string& value) {
  if (value.empty()) o->set(key, Poco::Dynamic::Var());
  else o->set(key, value);
}

ArrayPtr StringArray(const std::vector<std::string>& values) {
  ArrayPtr arr = NewArray();
  for (const auto& v : values) arr->add(v);
  return arr;
}

}  // namespace courier::json
