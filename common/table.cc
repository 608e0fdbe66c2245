#include "common/table.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace bitsweep {
namespace {

std::string Joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

bool ParseNumber(const std::string& text, double* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end != nullptr && *end == '\0';
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

Cell Cell::Number(double value, const char* format) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return {buffer, value};
}

Result<size_t> Table::ColumnIndex(const std::string& column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == column) return i;
  }
  return Status::InvalidArgument("unknown column \"" + column + "\" (columns: " + Joined(columns) + ")");
}

Status FilterRows(Table* table, const std::vector<std::string>& conditions) {
  for (const auto& condition : conditions) {
    // The operator is the first run of = ! < > characters.
    size_t op_begin = condition.find_first_of("=!<>");
    if (op_begin == std::string::npos || op_begin == 0) {
      return Status::InvalidArgument("--where \"" + condition + "\": expected <column><op><value>, op one of = != < <= > >=");
    }
    size_t op_end = condition.find_first_not_of("=!<>", op_begin);
    if (op_end == std::string::npos) op_end = condition.size();
    const std::string column = condition.substr(0, op_begin);
    const std::string op = condition.substr(op_begin, op_end - op_begin);
    const std::string value = condition.substr(op_end);
    if (op != "=" && op != "==" && op != "!=" && op != "<" && op != "<=" && op != ">" && op != ">=") {
      return Status::InvalidArgument("--where \"" + condition + "\": unknown operator \"" + op + "\"");
    }
    auto index = table->ColumnIndex(column);
    if (!index.ok()) return index.status().WithContext("--where \"" + condition + "\"");
    double number = 0.0;
    const bool numeric = ParseNumber(value, &number);
    auto keep = [&](const std::vector<Cell>& row) {
      const Cell& cell = row[index.value()];
      int cmp = 0;
      if (numeric && cell.number) {
        cmp = *cell.number < number ? -1 : (*cell.number > number ? 1 : 0);
      } else if (cell.number || !cell.text.empty()) {
        cmp = cell.text.compare(value);
        cmp = cmp < 0 ? -1 : (cmp > 0 ? 1 : 0);
      } else {
        return op == "!=";  // missing values match only "not equal"
      }
      if (op == "=" || op == "==") return cmp == 0;
      if (op == "!=") return cmp != 0;
      if (op == "<") return cmp < 0;
      if (op == "<=") return cmp <= 0;
      if (op == ">") return cmp > 0;
      return cmp >= 0;
    };
    auto& rows = table->rows;
    rows.erase(std::remove_if(rows.begin(), rows.end(), [&](const auto& row) { return !keep(row); }), rows.end());
  }
  return Status::Ok();
}

Status SortRows(Table* table, const std::string& column) {
  const bool descending = !column.empty() && column[0] == '-';
  auto index = table->ColumnIndex(descending ? column.substr(1) : column);
  if (!index.ok()) return index.status().WithContext("--sort");
  const size_t i = index.value();
  std::stable_sort(table->rows.begin(), table->rows.end(), [&](const auto& a, const auto& b) {
    const Cell &x = a[i], &y = b[i];
    const bool x_missing = !x.number && x.text.empty(), y_missing = !y.number && y.text.empty();
    if (x_missing || y_missing) return !x_missing && y_missing;
    if (x.number && y.number) return descending ? *x.number > *y.number : *x.number < *y.number;
    return descending ? x.text > y.text : x.text < y.text;
  });
  return Status::Ok();
}

Result<Table> ParetoFront(const Table& table, const std::string& x, const std::string& y) {
  BITSWEEP_ASSIGN_OR_RETURN(size_t xi, table.ColumnIndex(x));
  BITSWEEP_ASSIGN_OR_RETURN(size_t yi, table.ColumnIndex(y));
  Table front{table.columns, {}};
  std::vector<const std::vector<Cell>*> candidates;
  for (const auto& row : table.rows) {
    if (row[xi].number && row[yi].number) candidates.push_back(&row);
  }
  std::sort(candidates.begin(), candidates.end(), [&](auto* a, auto* b) {
    if (*(*a)[xi].number != *(*b)[xi].number) return *(*a)[xi].number < *(*b)[xi].number;
    return *(*a)[yi].number < *(*b)[yi].number;
  });
  // Sweeping by increasing x, a row is on the front when its y beats every
  // row before it. Sizes within kSameSize of each other count as one size:
  // generators of the same widths differ only by a few header bytes per
  // layer, which must not put a worse one on the front.
  constexpr double kSameSize = 1.02;
  double best_y = 0.0;
  for (size_t i = 0; i < candidates.size();) {
    // One size class: its best row (the sort puts it first).
    const double class_start = *(*candidates[i])[xi].number;
    const auto* best = candidates[i];
    size_t j = i;
    for (; j < candidates.size() && *(*candidates[j])[xi].number <= class_start * kSameSize; ++j) {
      if (*(*candidates[j])[yi].number < *(*best)[yi].number) best = candidates[j];
    }
    const double ry = *(*best)[yi].number;
    if (front.rows.empty() || ry < best_y) {
      front.rows.push_back(*best);
      best_y = ry;
    }
    i = j;
  }
  return front;
}

std::string FormatAligned(const Table& table) {
  std::vector<size_t> width(table.columns.size());
  for (size_t c = 0; c < table.columns.size(); ++c) width[c] = table.columns[c].size();
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].text.size());
  }
  std::ostringstream out;
  auto line = [&](auto cell_text, auto is_number) {
    for (size_t c = 0; c < table.columns.size(); ++c) {
      const std::string text = cell_text(c);
      const size_t pad = width[c] - text.size();
      if (c > 0) out << "  ";
      if (is_number(c)) out << std::string(pad, ' ') << text;
      else out << text << (c + 1 < table.columns.size() ? std::string(pad, ' ') : "");
    }
    out << "\n";
  };
  // Numeric columns are right-aligned, headers included.
  std::vector<bool> numeric(table.columns.size(), false);
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < row.size(); ++c) numeric[c] = numeric[c] || row[c].number.has_value();
  }
  line([&](size_t c) { return table.columns[c]; }, [&](size_t c) { return static_cast<bool>(numeric[c]); });
  for (const auto& row : table.rows) {
    line([&](size_t c) { return row[c].text; }, [&](size_t c) { return static_cast<bool>(numeric[c]); });
  }
  return out.str();
}

std::string FormatCsv(const Table& table) {
  std::ostringstream out;
  for (size_t c = 0; c < table.columns.size(); ++c) out << (c ? "," : "") << CsvField(table.columns[c]);
  out << "\n";
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      // Full precision for numbers: CSV is for further analysis.
      std::string text = row[c].text;
      if (row[c].number) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.17g", *row[c].number);
        text = buffer;
      }
      out << (c ? "," : "") << CsvField(text);
    }
    out << "\n";
  }
  return out.str();
}

nlohmann::json FormatJson(const Table& table) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : table.rows) {
    nlohmann::json object = nlohmann::json::object();
    for (size_t c = 0; c < row.size(); ++c) {
      if (row[c].number) {
        const double v = *row[c].number;
        const bool integral = v == static_cast<double>(static_cast<int64_t>(v)) && std::abs(v) < 9e15;
        if (integral) {
          object[table.columns[c]] = static_cast<int64_t>(v);
        } else {
          object[table.columns[c]] = v;
        }
      } else if (row[c].text.empty()) {
        object[table.columns[c]] = nullptr;
      } else {
        object[table.columns[c]] = row[c].text;
      }
    }
    rows.push_back(std::move(object));
  }
  return rows;
}

}  // namespace bitsweep
