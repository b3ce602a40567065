// core/json.h: the object accessors handlers read providers' JSON with,
// loose where providers are loose about types.
#include "core/json.h"

#include <gtest/gtest.h>

#include <string>

namespace courier {
namespace {

json::ObjectPtr Parse(const std::string& text) {
  auto o = json::ParseObject(text);
  EXPECT_TRUE(o.ok()) << o.status().ToString();
  return o.ok() ? *o : json::NewObject();
}

TEST(Json, ContainersAndTheirAbsence) {
  auto o = Parse(R"({"a": [{"x": 1}, 2, {"y": 2}], "o": {"k": "v"}, "n": null, "s": "text"})");
  EXPECT_EQ(json::Objects(json::GetArray(o, "a")).size(), 2u);  // the non-objects are skipped
  EXPECT_TRUE(json::Objects(json::GetArray(o, "missing")).empty());
  EXPECT_EQ(json::GetArray(o, "n"), nullptr);
  EXPECT_EQ(json::GetArray(o, "s"), nullptr);
  EXPECT_EQ(json::GetArray(nullptr, "a"), nullptr);
  EXPECT_EQ(json::GetStringOrEmpty(json::GetObject(o, "o"), "k"), "v");
  EXPECT_EQ(json::GetObject(o, "s"), nullptr);
}

TEST(Json, ScalarsAsText) {
  auto o = Parse(R"({"s": "x", "i": 42, "f": 1.5, "b": true, "n": null, "o": {}, "a": []})");
  EXPECT_EQ(json::GetText(o, "s"), "x");
  EXPECT_EQ(json::GetText(o, "i"), "42");
  EXPECT_EQ(json::GetText(o, "f"), "1.5");
  EXPECT_EQ(json::GetText(o, "b"), "true");
  EXPECT_EQ(json::GetText(o, "n"), std::nullopt);
  EXPECT_EQ(json::GetText(o, "o"), std::nullopt);
  EXPECT_EQ(json::GetText(o, "a"), std::nullopt);
  EXPECT_EQ(json::GetText(o, "missing"), std::nullopt);
  EXPECT_EQ(json::GetTextOrEmpty(o, "missing"), "");
}

TEST(Json, LooseNumbersAndIds) {
  auto o = Parse(R"({"i": 21610, "si": "21610", "bad": "21610x", "f": 12.25, "sf": "-3.5", "e": "",
                     "big": 18446744073709551615, "huge": 1.5e20, "id": "wamid.1"})");
  EXPECT_EQ(json::GetIntLoose(o, "i"), 21610);
  EXPECT_EQ(json::GetIntLoose(o, "si"), 21610);
  EXPECT_EQ(json::GetIntLoose(o, "bad"), std::nullopt);
  EXPECT_EQ(json::GetIntLoose(o, "e"), std::nullopt);
  EXPECT_EQ(json::GetNumber(o, "f"), 12.25);
  EXPECT_EQ(json::GetNumber(o, "sf"), std::nullopt);  // strict: a string is no number
  EXPECT_EQ(json::GetNumberLoose(o, "sf"), -3.5);
  EXPECT_EQ(json::GetNumberLoose(o, "bad"), std::nullopt);
  EXPECT_EQ(json::GetId(o, "id"), "wamid.1");
  EXPECT_EQ(json::GetId(o, "i"), "21610");
  EXPECT_EQ(json::GetId(o, "big"), "18446744073709551615");  // above int64, still its digits
  EXPECT_EQ(json::GetId(o, "huge"), "150000000000000000000");
  EXPECT_EQ(json::GetId(o, "missing"), "");
}

}  // namespace
}  // namespace courier
