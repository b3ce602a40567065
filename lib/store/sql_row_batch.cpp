#include "store/sql_row_batch.h"

namespace courier {

namespace {

const char* ArrayType(SqlRowBatch::Type type) {
  switch (type) {
    case SqlRowBatch::Type::kBigInt:
      return "BIGINT[]";
    case SqlRowBatch::Type::kInteger:
      return "INTEGER[]";
    case SqlRowBatch::Type::kText:
      return "TEXT[]";
    case SqlRowBatch::Type::kBoolean:
      return "BOOLEAN[]";
  }
  return "TEXT[]";
}

// A text element of an array literal: double-quoted, `"` and `\` escaped,
// so that commas, braces, spaces and the word NULL stay text.
void AppendQuoted(std::string& out, const std::string& text) {
  out += '"';
  for (char ch : text) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '"';
}

}  // namespace

SqlRowBatch::SqlRowBatch(std::string row_sql, std::string set_sql, std::vector<Type> columns)
    : row_sql_(std::move(row_sql)), set_sql_(std::move(set_sql)), columns_(std::move(columns)) {}

SqlRowBatch& SqlRowBatch::Int(int64_t value) {
  Cell c;
  c.is_int = true;
  c.number = value;
  cells_.push_back(std::move(c));
  return *this;
}

SqlRowBatch& SqlRowBatch::Text(const std::string& value) {
  Cell c;
  c.text = value;
  cells_.push_back(std::move(c));
  return *this;
}

SqlRowBatch& SqlRowBatch::Null() {
  Cell c;
  c.is_null = true;
  cells_.push_back(std::move(c));
  return *this;
}

std::string SqlRowBatch::ArraySql() const {
  std::string rows = "unnest(";
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i > 0) rows += ", ";
    rows += std::string("CAST(? AS ") + ArrayType(columns_[i]) + ")";
  }
  rows += ")";
  std::string sql = set_sql_;
  const std::string mark = "{ROWS}";
  const size_t at = sql.find(mark);
  if (at != std::string::npos) sql.replace(at, mark.size(), rows);
  // {ARRAY k}: column k's array again, by its parameter's number (the
  // unnest's are the statement's only parameters, numbered in order).
  for (size_t k = 1; k <= columns_.size(); ++k) {
    const std::string again = "{ARRAY " + std::to_string(k) + "}";
    const std::string param = "CAST($" + std::to_string(k) + " AS " + ArrayType(columns_[k - 1]) + ")";
    for (size_t pos = sql.find(again); pos != std::string::npos; pos = sql.find(again, pos + param.size())) {
      sql.replace(pos, again.size(), param);
    }
  }
  return sql;
}

void SqlRowBatch::Write(SqlStatements& statements, bool as_arrays) {
  if (cells_.empty()) return;
  // Forgotten before anything runs: a statement that throws must not
  // leave its rows to be written again by the next Write().
  std::vector<Cell> cells;
  cells.swap(cells_);
  const size_t width = columns_.size();
  if (cells.size() % width != 0) throw SqlError(Status::Internal("row batch has an incomplete row"));
  const size_t count = cells.size() / width;
  if (!as_arrays) {
    for (size_t r = 0; r < count; ++r) {
      auto q = statements(row_sql_);
      for (size_t c = 0; c < width; ++c) {
        const Cell& cell = cells[r * width + c];
        if (cell.is_null) q.BindNull();
        else if (cell.is_int) q.Bind(cell.number);
        else q.Bind(cell.text);
      }
      q.RunLater();
    }
    return;
  }
  ArrayQuery(statements, cells).RunLater();
}

SqlQuery SqlRowBatch::ArrayQuery(SqlStatements& statements) {
  std::vector<Cell> cells;
  cells.swap(cells_);
  if (cells.size() % columns_.size() != 0) throw SqlError(Status::Internal("row batch has an incomplete row"));
  return ArrayQuery(statements, cells);
}

SqlQuery SqlRowBatch::ArrayQuery(SqlStatements& statements, const std::vector<Cell>& cells) const {
  const size_t width = columns_.size();
  const size_t count = cells.size() / width;
  auto q = statements(ArraySql());
  for (size_t c = 0; c < width; ++c) {
    std::string literal = "{";
    for (size_t r = 0; r < count; ++r) {
      const Cell& cell = cells[r * width + c];
      if (r > 0) literal += ',';
      if (cell.is_null) {
        literal += "NULL";
      } else if (cell.is_int) {
        literal += std::to_string(cell.number);
      } else {
        AppendQuoted(literal, cell.text);
      }
    }
    literal += '}';
    q.Bind(literal);
  }
  return q;
}

}  // namespace courier
