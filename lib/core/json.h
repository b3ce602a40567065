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

// Compact one-line text (UTF-8 kept as is).
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
// An array of strings; nullopt if absent/null, error text if not strings.
Result<std::vector<std::string>> GetStringArray(const ObjectPtr& o, const std::string& key);

// Sets a time as RFC 3339, or null when absent.
void SetTime(ObjectPtr o, const std::string& key, std::optional<Micros> t);
void SetNullableString(ObjectPtr o, const std::string& key, const std::string& value);
ArrayPtr StringArray(const std::vector<std::string>& values);

}  // namespace courier::json
