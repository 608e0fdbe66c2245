// Tables for the terminal and for scripts: filter (--where), sort (--sort),
// print aligned, as CSV or as JSON, and the Pareto front of two columns.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace bitsweep {

/// A cell: the text shown, and the number behind it when it is one (for
/// sorting, filtering and JSON). An empty cell with no number is "missing".
struct Cell {
  std::string text;
  std::optional<double> number;

  static Cell Text(std::string text) { return {std::move(text), std::nullopt}; }
  /// `text` formatted from `value` with printf `format`.
  static Cell Number(double value, const char* format = "%g");
  static Cell Missing() { return {"", std::nullopt}; }
};

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;

  /// Index of `column`, or an INVALID_ARGUMENT naming the columns there are.
  Result<size_t> ColumnIndex(const std::string& column) const;
};

/// Keeps the rows matching every condition: "<column><op><value>" with op
/// one of = != < <= > >= (numbers compare as numbers, the rest as text).
Status FilterRows(Table* table, const std::vector<std::string>& conditions);

/// Sorts by a column ("-fid" for descending); missing values go last.
Status SortRows(Table* table, const std::string& column);

/// The rows no other row beats on both columns (lower is better for both),
/// sorted by `x`. Rows missing either value are left out. Values of `x`
/// within 2% of each other count as equal (packed generators of the same
/// widths differ by a few header bytes): of those, only the best `y` can be
/// on the front.
Result<Table> ParetoFront(const Table& table, const std::string& x, const std::string& y);

std::string FormatAligned(const Table& table);
std::string FormatCsv(const Table& table);
/// An array of objects; numbers stay numbers, missing cells are null.
nlohmann::json FormatJson(const Table& table);

}  // namespace bitsweep
