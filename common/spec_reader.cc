#include "common/spec_reader.h"

#include <fstream>
#include <sstream>

#include <cmath>
#include <sstream>

namespace bitsweep {
namespace {

const nlohmann::json& EmptyObject() {
  static const nlohmann::json empty = nlohmann::json::object();
  return empty;
}

std::string Describe(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

std::string FormatNumber(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

SpecReader::SpecReader(const nlohmann::json& object, std::string path)
    : SpecReader(object, std::move(path), std::make_shared<Status>()) {}

SpecReader::SpecReader(const nlohmann::json& object, std::string path, std::shared_ptr<Status> error)
    : object_(object.is_object() ? object : EmptyObject()), path_(std::move(path)), error_(std::move(error)) {
  if (!object.is_object() && !failed()) {
    *error_ = Status::InvalidArgument((path_.empty() ? std::string("spec") : path_) +
                                      ": expected an object, got " + Describe(object));
  }
}

std::string SpecReader::PathOf(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void SpecReader::Fail(const std::string& key, const std::string& message) {
  if (failed()) return;
  *error_ = Status::InvalidArgument(PathOf(key) + ": " + message);
}

bool SpecReader::Has(const std::string& key) const { return object_.contains(key); }

std::vector<std::string> SpecReader::Keys() const {
  std::vector<std::string> keys;
  for (auto it = object_.begin(); it != object_.end(); ++it) keys.push_back(it.key());
  return keys;
}

const nlohmann::json* SpecReader::Find(const std::string& key) {
  read_keys_.insert(key);
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

SpecReader SpecReader::Child(const std::string& key) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return SpecReader(EmptyObject(), PathOf(key), error_);
  return SpecReader(*value, PathOf(key), error_);
}

std::string SpecReader::String(const std::string& key, const std::string& fallback) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr || failed()) return fallback;
  if (!value->is_string()) {
    Fail(key, "expected a string, got " + Describe(*value));
    return fallback;
  }
  return value->get<std::string>();
}

std::string SpecReader::RequiredString(const std::string& key) {
  if (Find(key) == nullptr) {
    Fail(key, "missing (required)");
    return "";
  }
  return String(key, "");
}

std::string SpecReader::OneOf(const std::string& key, const std::string& fallback,
                              const std::vector<std::string>& allowed) {
  std::string value = String(key, fallback);
  if (failed()) return fallback;
  for (const auto& option : allowed) {
    if (value == option) return value;
  }
  std::string list;
  for (const auto& option : allowed) list += (list.empty() ? "" : ", ") + option;
  Fail(key, "\"" + value + "\" is not one of: " + list);
  return fallback;
}

int64_t SpecReader::Int(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr || failed()) return fallback;
  int64_t result = 0;
  if (value->is_number_integer()) {
    result = value->get<int64_t>();
  } else if (value->is_number_float() && std::floor(value->get<double>()) == value->get<double>() &&
             std::fabs(value->get<double>()) < 9e18) {
    result = static_cast<int64_t>(value->get<double>());
  } else {
    Fail(key, "expected an integer, got " + Describe(*value));
    return fallback;
  }
  if (result < min || result > max) {
    Fail(key, std::to_string(result) + " is outside " + std::to_string(min) + ".." + std::to_string(max));
    return fallback;
  }
  return result;
}

double SpecReader::Number(const std::string& key, double fallback, double min, double max) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr || failed()) return fallback;
  if (!value->is_number()) {
    Fail(key, "expected a number, got " + Describe(*value));
    return fallback;
  }
  double result = value->get<double>();
  if (!std::isfinite(result) || result < min || result > max) {
    Fail(key, FormatNumber(result) + " is outside " + FormatNumber(min) + ".." + FormatNumber(max));
    return fallback;
  }
  return result;
}

bool SpecReader::Bool(const std::string& key, bool fallback) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr || failed()) return fallback;
  if (!value->is_boolean()) {
    Fail(key, "expected true or false, got " + Describe(*value));
    return fallback;
  }
  return value->get<bool>();
}

std::vector<double> SpecReader::NumberArray(const std::string& key, std::vector<double> fallback,
                                            size_t expected_size, double min, double max) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr || failed()) return fallback;
  if (!value->is_array() || (expected_size != 0 && value->size() != expected_size)) {
    Fail(key, "expected an array of " + (expected_size ? std::to_string(expected_size) + " " : std::string()) +
                  "numbers, got " + Describe(*value));
    return fallback;
  }
  std::vector<double> result;
  for (size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    if (!item.is_number() || item.get<double>() < min || item.get<double>() > max) {
      Fail(key + "[" + std::to_string(i) + "]",
           Describe(item) + " is not a number in " + FormatNumber(min) + ".." + FormatNumber(max));
      return fallback;
    }
    result.push_back(item.get<double>());
  }
  return result;
}

std::vector<std::string> SpecReader::StringArray(const std::string& key, std::vector<std::string> fallback) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr || failed()) return fallback;
  if (!value->is_array()) {
    Fail(key, "expected an array of strings, got " + Describe(*value));
    return fallback;
  }
  std::vector<std::string> result;
  for (size_t i = 0; i < value->size(); ++i) {
    if (!(*value)[i].is_string()) {
      Fail(key + "[" + std::to_string(i) + "]", "expected a string, got " + Describe((*value)[i]));
      return fallback;
    }
    result.push_back((*value)[i].get<std::string>());
  }
  return result;
}

std::vector<SpecReader> SpecReader::ObjectArray(const std::string& key) {
  std::vector<SpecReader> out;
  const nlohmann::json* value = Find(key);
  if (value == nullptr || failed()) return out;
  if (!value->is_array()) {
    Fail(key, "expected a list of objects, got " + Describe(*value));
    return out;
  }
  for (size_t i = 0; i < value->size() && !failed(); ++i) {
    out.push_back(SpecReader((*value)[i], PathOf(key) + "[" + std::to_string(i) + "]", error_));
  }
  return out;
}

void SpecReader::RejectUnknownKeys() {
  if (failed()) return;
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (read_keys_.count(it.key())) continue;
    std::string known;
    for (const auto& key : read_keys_) known += (known.empty() ? "" : ", ") + key;
    Fail(it.key(), "unknown field (known fields here: " + known + ")");
    return;
  }
}

Result<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot open file");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidArgument(path + ": not valid JSON: " + e.what());
  }
}

}  // namespace bitsweep
