#pragma once
// Small helpers over Poco::JSON so that callers build and read JSON without
// catching POCO exceptions: objects keep insertion order (stable field order
// for scripts), parsing returns a Result, getters take a fallback.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace courier::json {

using ObjectPtr = Poco::JSON::Object::Ptr;
using ArrayPtr = Poco::JSON::Array::Ptr;

ObjectPtr NewObject();  // preserves key order
ArrayPtr NewArray();

// Compact one-line text (UTF-8 kept as is); always well-formed UTF-8:
// ill-formed sequences in strings become U+FFFD as in JsonWriter.
std::string Stringify(const ObjectPtr& object);
std::string Stringify(const ArrayPtr& array);

// Parses text that must hold a JSON object.
Result<ObjectPtr> ParseObject(const std::string& text);

// Typed reads; nullopt when absent, null, or of another type.
std::optional<std::string> GetString(const ObjectPtr& o, const std::string& key);
std::optional<int64_t> GetInt(const ObjectPtr& o, const std::string& key);
std::optional<bool> GetBool(const ObjectPtr& o, const std::string& key);
// The string under `key`, or "" when absent, null or not a string.
std::string GetStringOrEmpty(const ObjectPtr& o, const std::string& key);
// The object under `key`, or null when absent, null or not an object.
ObjectPtr GetObject(const ObjectPtr& o, const std::string& key);
// The objects in the array under `key` (other elements skipped); empty
// when absent.
std::vector<ObjectPtr> GetObjects(const ObjectPtr& o, const std::string& key);
// The array under `key`, or null when absent, null or not an array.
ArrayPtr GetArray(const ObjectPtr& o, const std::string& key);
// The objects of an array (other elements skipped); empty for null.
std::vector<ObjectPtr> Objects(const ArrayPtr& a);

// Reads for providers that are loose about JSON types.
// A scalar as text: a string as it is, a number or boolean as its JSON
// text; nullopt when absent, null, an object or an array.
std::optional<std::string> GetText(const ObjectPtr& o, const std::string& key);
std::string GetTextOrEmpty(const ObjectPtr& o, const std::string& key);
std::optional<std::string> ScalarText(const Poco::Dynamic::Var& value);
// The number under `key`; nullopt when absent, null or not a number.
std::optional<double> GetNumber(const ObjectPtr& o, const std::string& key);
// The same, also taking a string that is wholly a number (WhatsApp's
// timestamps and coordinates).
std::optional<double> GetNumberLoose(const ObjectPtr& o, const std::string& key);
// An integer, or a string that is wholly one ("21610").
std::optional<int64_t> GetIntLoose(const ObjectPtr& o, const std::string& key);
// An id documented as a string that may come as a number: the string, or
// the number's digits (unsigned 64-bit tokens included); "" when absent
// or of another type.
std::string GetId(const ObjectPtr& o, const std::string& key);

// An array of strings; nullopt if absent/null, error text if not strings.
Result<std::vector<std::string>> GetStringArray(const ObjectPtr& o, const std::string& key);

// Sets a time as RFC 3339, or null when absent.
void SetTime(ObjectPtr o, const std::string& key, std::optional<Micros> t);
void SetNullableString(ObjectPtr o, const std::string& key, const std::string& value);
ArrayPtr StringArray(const std::vector<std::string>& values);

}  // namespace courier::json
