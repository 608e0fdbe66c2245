// The header's JSON reader: what RFC 8259 allows, and clear errors (with
// the byte offset) for everything else.
#include "edge/json.h"

#include <gtest/gtest.h>

namespace bitsweep::edge {
namespace {

JsonValue Parse(const std::string& text) {
  JsonValue v;
  std::string error;
  EXPECT_TRUE(ParseJson(text.data(), text.size(), &v, &error)) << text << ": " << error;
  return v;
}

std::string Error(const std::string& text, int depth = 32) {
  JsonValue v;
  std::string error;
  EXPECT_FALSE(ParseJson(text.data(), text.size(), &v, &error, depth)) << text;
  return error;
}

TEST(JsonTest, ReadsEveryKindOfValue) {
  JsonValue v = Parse(R"( {"a": [1, -2.5e3, true, false, null], "s": "x\"\\\/\b\f\n\r\tA\u00e9\ud83d\ude00", "o": {}} )");
  ASSERT_TRUE(v.is_object());
  const JsonValue* a = v.Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items().size(), 5u);
  EXPECT_EQ(a->items()[0].number(), 1.0);
  EXPECT_EQ(a->items()[1].number(), -2500.0);
  EXPECT_TRUE(a->items()[2].bool_value());
  EXPECT_TRUE(a->items()[4].is_null());
  EXPECT_EQ(v.Find("s")->string(), "x\"\\/\b\f\n\r\tA\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_TRUE(v.Find("o")->is_object());
  EXPECT_EQ(v.Find("missing"), nullptr);
}

TEST(JsonTest, WholeNumbersWithinRange) {
  int64_t out = 0;
  EXPECT_TRUE(Parse("9007199254740992").AsInt(0, INT64_MAX, &out));
  EXPECT_EQ(out, int64_t{1} << 53);
  EXPECT_FALSE(Parse("1e300").AsInt(0, INT64_MAX, &out));
  EXPECT_FALSE(Parse("1.5").AsInt(0, 10, &out));
  EXPECT_FALSE(Parse("11").AsInt(0, 10, &out));
  EXPECT_FALSE(Parse("\"3\"").AsInt(0, 10, &out));
  EXPECT_TRUE(Parse("-0").AsInt(0, 10, &out));
}

TEST(JsonTest, RefusesWhatIsNotJson) {
  EXPECT_NE(Error("").find("unexpected end"), std::string::npos);
  EXPECT_NE(Error("{\"a\":1,}").find("expected a member name at byte 7"), std::string::npos);
  EXPECT_NE(Error("[1 2]").find("expected ',' or ']' at byte 3"), std::string::npos);
  EXPECT_NE(Error("{\"a\":1} x").find("unexpected text after the value"), std::string::npos);
  EXPECT_NE(Error("{\"a\":1,\"a\":2}").find("duplicate member \"a\""), std::string::npos);
  EXPECT_NE(Error("01").find("unexpected text"), std::string::npos);
  EXPECT_NE(Error("1.").find("invalid number"), std::string::npos);
  EXPECT_NE(Error("+1").find("invalid value"), std::string::npos);
  EXPECT_NE(Error("1e999").find("out of range"), std::string::npos);
  EXPECT_NE(Error("\"abc").find("unterminated string"), std::string::npos);
  EXPECT_NE(Error("\"a\nb\"").find("control character"), std::string::npos);
  EXPECT_NE(Error("\"\\x\"").find("invalid escape"), std::string::npos);
  EXPECT_NE(Error("\"\\ud83d\"").find("unpaired surrogate"), std::string::npos);
  EXPECT_NE(Error("\"\\u12g4\"").find("invalid \\u escape"), std::string::npos);
  EXPECT_NE(Error("tru").find("invalid literal"), std::string::npos);
  EXPECT_NE(Error("NaN").find("invalid value"), std::string::npos);
  EXPECT_NE(Error(std::string(100, '1')).find("longer than 64"), std::string::npos);
  EXPECT_NE(Error("[[[[1]]]]", 3).find("nesting deeper than 3"), std::string::npos);
  EXPECT_NE(Error(std::string(100000, '[')).find("nesting deeper"), std::string::npos);
}

TEST(JsonTest, LargeObjectsStayFast) {
  // A hostile header with 200,000 members: duplicate detection must not be
  // quadratic (that would be 4e10 comparisons).
  std::string text = "{";
  for (int i = 0; i < 200000; ++i) text += (i ? ",\"" : "\"") + std::to_string(i) + "\":0";
  text += "}";
  JsonValue v = Parse(text);
  EXPECT_EQ(v.members().size(), 200000u);
}

}  // namespace
}  // namespace bitsweep::edge
