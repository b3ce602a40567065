#pragma once
// Aligned text tables for courier-ctl's human output. Column widths count
// UTF-8 code points, so non-ASCII text still lines up.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/clock.h"

namespace courier {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void Print(std::ostream& out) const;
  // Print within `width` columns: the last column's text is wrapped at
  // spaces onto lines of its own, under where it starts. A word longer
  // than the room left stands alone on its line.
  void PrintWrapped(std::ostream& out, size_t width) const;

 private:
  std::vector<size_t> Widths() const;  // of each column, in code points
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Text on one line: newlines, carriage returns and tabs shown as a space.
std::string OneLine(const std::string& text);

// Shortens text for a table cell: OneLine(), at most `width` code points
// with "…" when cut.
std::string CellText(const std::string& text, size_t width);

// A time for a table: RFC 3339 UTC to the second, or "-" when absent.
std::string TableTime(std::optional<Micros> t);

}  // namespace courier
