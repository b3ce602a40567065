#include "ctl/table.h"

#include <algorithm>

#include "util/utf8.h"

namespace courier {
namespace {

// The cells of `row`, padded to `widths` with two spaces between
// columns, trailing spaces dropped.
std::string Line(const std::vector<std::string>& row, const std::vector<size_t>& widths) {
  std::string line;
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string cell = i < row.size() ? row[i] : "";
    line += cell;
    if (i + 1 < widths.size()) line += std::string(widths[i] - std::min(widths[i], CodePoints(cell)) + 2, ' ');
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

// `text` as lines of at most `width` code points, broken at spaces.
std::vector<std::string> Wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    if (!line.empty() && CodePoints(line) + 1 + CodePoints(word) > width) {
      lines.push_back(line);
      line.clear();
    }
    // A word wider than the column ("messaging_application_id*|application_id,")
    // is broken after a '|' where it has one, else where the column ends.
    std::string rest = word;
    while (width > 0 && line.empty() && CodePoints(rest) > width) {
      const std::string head = Truncate(rest, width);
      const size_t bar = head.rfind('|');
      const size_t cut = bar != std::string::npos && bar > 0 ? bar + 1 : head.size();
      lines.push_back(rest.substr(0, cut));
      rest = rest.substr(cut);
    }
    line += (line.empty() ? "" : " ") + rest;
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

}  // namespace

std::vector<size_t> Table::Widths() const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], CodePoints(row[i]));
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  return widths;
}

void Table::Print(std::ostream& out) const {
  const std::vector<size_t> widths = Widths();
  out << Line(header_, widths) << '\n';
  for (const auto& r : rows_) out << Line(r, widths) << '\n';
}

void Table::PrintWrapped(std::ostream& out, size_t width) const {
  std::vector<size_t> widths = Widths();
  if (widths.empty()) return;
  size_t indent = 0;  // where the last column starts
  for (size_t i = 0; i + 1 < widths.size(); ++i) indent += widths[i] + 2;
  const size_t room = width > indent ? width - indent : 1;
  widths.back() = std::min(widths.back(), room);
  out << Line(header_, widths) << '\n';
  for (const auto& r : rows_) {
    const std::vector<std::string> lines = Wrap(r.size() == widths.size() ? r.back() : "", room);
    std::vector<std::string> first = r;
    first.resize(widths.size());
    first.back() = lines.front();
    out << Line(first, widths) << '\n';
    for (size_t i = 1; i < lines.size(); ++i) out << std::string(indent, ' ') << lines[i] << '\n';
  }
}

std::string OneLine(const std::string& text) {
  std::string flat;
  for (char c : text) flat += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  return flat;
}

std::string CellText(const std::string& text, size_t width) {
  const std::string flat = OneLine(text);
  if (CodePoints(flat) <= width) return flat;
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < flat.size(); ++i) {
    unsigned char c = flat[i];
    if ((c & 0xC0) != 0x80) {
      if (n == width - 1) break;
      ++n;
    }
    out += flat[i];
  }
  return out + "…";
}

std::string TableTime(std::optional<Micros> t) { return t ? FormatRfc3339(*t).substr(0, 19) + "Z" : "-"; }

}  // namespace courier
