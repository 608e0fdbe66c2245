// A small, strict JSON reader for the packed generator's header.
//
// The header comes from an untrusted file, and the runtime takes no
// dependencies, so this is a reader of its own rather than a library's:
// RFC 8259 values only, no extensions, a bounded nesting depth, and an error
// (never an exception or a crash) with the byte offset of the first problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bitsweep::edge {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool bool_value() const { return bool_; }
  double number() const { return number_; }
  const std::string& string() const { return string_; }
  /// Elements of an array (empty for other types).
  const std::vector<JsonValue>& items() const { return items_; }
  /// Members of an object in file order (empty for other types).
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }

  /// The member called `key` of an object, or nullptr (also for non-objects).
  /// With duplicate keys the reader has already refused the text.
  const JsonValue* Find(const std::string& key) const;

  /// Whether the value is a number with no fraction within [lo, hi]; stores it.
  bool AsInt(int64_t lo, int64_t hi, int64_t* out) const;

  /// "null", "true", "a number", "a string", ... for error messages.
  static const char* TypeName(Type type);

 private:
  friend class JsonReader;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

/// Parses `text` (exactly one value, surrounded by optional whitespace).
/// Nesting deeper than `max_depth` arrays/objects is refused. On failure
/// returns false and sets `error` to a message with the byte offset.
bool ParseJson(const char* text, size_t size, JsonValue* value, std::string* error, int max_depth = 32);

}  // namespace bitsweep::edge
