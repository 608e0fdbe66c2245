#include "edge/json.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace bitsweep::edge {

const JsonValue* JsonValue::Find(const std::string& key) const {
  for (const auto& member : members_) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

bool JsonValue::AsInt(int64_t lo, int64_t hi, int64_t* out) const {
  // Doubles hold every integer up to 2^53 exactly; beyond that a value in
  // the file may not be the one written, so it is refused.
  constexpr double kExact = 9007199254740992.0;
  if (type_ != Type::kNumber || !(std::fabs(number_) <= kExact) || number_ != std::floor(number_)) return false;
  const auto value = static_cast<int64_t>(number_);
  if (value < lo || value > hi) return false;
  *out = value;
  return true;
}

const char* JsonValue::TypeName(Type type) {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kBool: return "a boolean";
    case Type::kNumber: return "a number";
    case Type::kString: return "a string";
    case Type::kArray: return "an array";
    case Type::kObject: return "an object";
  }
  return "?";
}

class JsonReader {
 public:
  JsonReader(const char* text, size_t size, int max_depth) : p_(text), begin_(text), end_(text + size), max_depth_(max_depth) {}

  bool ReadDocument(JsonValue* value, std::string* error) {
    SkipSpace();
    bool ok = ReadValue(value, 0) && (SkipSpace(), p_ == end_ || Fail("unexpected text after the value"));
    if (!ok) *error = error_;
    return ok;
  }

 private:
  bool Fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at byte " + std::to_string(p_ - begin_);
    return false;
  }

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool Literal(const char* word) {
    const char* q = p_;
    for (; *word != '\0'; ++word, ++q) {
      if (q == end_ || *q != *word) return Fail("invalid literal");
    }
    p_ = q;
    return true;
  }

  bool ReadValue(JsonValue* v, int depth) {
    if (p_ == end_) return Fail("unexpected end of text");
    switch (*p_) {
      case '{': return ReadObject(v, depth + 1);
      case '[': return ReadArray(v, depth + 1);
      case '"': v->type_ = JsonValue::Type::kString; return ReadString(&v->string_);
      case 't': v->type_ = JsonValue::Type::kBool; v->bool_ = true; return Literal("true");
      case 'f': v->type_ = JsonValue::Type::kBool; v->bool_ = false; return Literal("false");
      case 'n': v->type_ = JsonValue::Type::kNull; return Literal("null");
      default: return ReadNumber(v);
    }
  }

  bool ReadObject(JsonValue* v, int depth) {
    if (depth > max_depth_) return Fail("nesting deeper than " + std::to_string(max_depth_));
    v->type_ = JsonValue::Type::kObject;
    ++p_;  // {
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (p_ == end_ || *p_ != '"') return Fail("expected a member name");
      std::string key;
      if (!ReadString(&key)) return false;
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return Fail("expected ':'");
      ++p_;
      SkipSpace();
      v->members_.emplace_back(std::move(key), JsonValue());
      if (!ReadValue(&v->members_.back().second, depth)) return false;
      SkipSpace();
      if (p_ == end_) return Fail("unexpected end of text in an object");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        return CheckUniqueKeys(*v);
      }
      return Fail("expected ',' or '}'");
    }
  }

  // Sorting keeps this O(n log n): a hostile header may hold an object with
  // a hundred thousand members.
  bool CheckUniqueKeys(const JsonValue& v) {
    std::vector<const std::string*> keys;
    keys.reserve(v.members_.size());
    for (const auto& member : v.members_) keys.push_back(&member.first);
    std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    for (size_t i = 1; i < keys.size(); ++i) {
      if (*keys[i] == *keys[i - 1]) return Fail("duplicate member \"" + keys[i]->substr(0, 40) + "\"");
    }
    return true;
  }

  bool ReadArray(JsonValue* v, int depth) {
    if (depth > max_depth_) return Fail("nesting deeper than " + std::to_string(max_depth_));
    v->type_ = JsonValue::Type::kArray;
    ++p_;  // [
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    while (true) {
      SkipSpace();
      v->items_.emplace_back();
      if (!ReadValue(&v->items_.back(), depth)) return false;
      SkipSpace();
      if (p_ == end_) return Fail("unexpected end of text in an array");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      return Fail("expected ',' or ']'");
    }
  }

  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool ReadHex4(uint32_t* out) {
    if (end_ - p_ < 4) return Fail("truncated \\u escape");
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      int d = HexDigit(p_[i]);
      if (d < 0) return Fail("invalid \\u escape");
      value = value * 16 + static_cast<uint32_t>(d);
    }
    p_ += 4;
    *out = value;
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool ReadString(std::string* out) {
    ++p_;  // opening quote
    while (true) {
      if (p_ == end_) return Fail("unterminated string");
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return Fail("control character in a string");
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        ++p_;
        continue;
      }
      ++p_;
      if (p_ == end_) return Fail("unterminated string");
      const char e = *p_++;
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (!ReadHex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            // A high surrogate must be followed by a low one.
            uint32_t low = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return Fail("unpaired surrogate");
            p_ += 2;
            if (!ReadHex4(&low)) return false;
            if (low < 0xDC00 || low >= 0xE000) return Fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Fail("unpaired surrogate");
          }
          AppendUtf8(cp, out);
          break;
        }
        default: --p_; return Fail("invalid escape");
      }
    }
  }

  bool ReadNumber(JsonValue* v) {
    // The JSON grammar, checked here; strtod converts the checked text.
    const char* start = p_;
    const char* q = p_;
    auto digits = [&] {
      const char* first = q;
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
      return q > first;
    };
    if (q < end_ && *q == '-') ++q;
    if (q < end_ && *q == '0') {
      ++q;
    } else if (!digits()) {
      return Fail("invalid value");
    }
    if (q < end_ && *q == '.') {
      ++q;
      if (!digits()) return Fail("invalid number");
    }
    if (q < end_ && (*q == 'e' || *q == 'E')) {
      ++q;
      if (q < end_ && (*q == '+' || *q == '-')) ++q;
      if (!digits()) return Fail("invalid number");
    }
    constexpr ptrdiff_t kLongestNumber = 64;
    if (q - start > kLongestNumber) return Fail("number longer than 64 characters");
    const std::string token(start, q);
    v->type_ = JsonValue::Type::kNumber;
    v->number_ = std::strtod(token.c_str(), nullptr);
    if (!std::isfinite(v->number_)) return Fail("number out of range");
    p_ = q;
    return true;
  }

  const char* p_;
  const char* begin_;
  const char* end_;
  int max_depth_;
  std::string error_;
};

bool ParseJson(const char* text, size_t size, JsonValue* value, std::string* error, int max_depth) {
  *value = JsonValue();
  JsonReader reader(text, size, max_depth);
  return reader.ReadDocument(value, error);
}

}  // namespace bitsweep::edge
