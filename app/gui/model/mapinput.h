// The inputs of a map: parsed from a range ("0..9", "0..100:5", "range(10)"), a pasted list
// (a JSON array, or values separated by commas, spaces or new lines), JSON lines, or CSV.
// Widget-free and tested; the map form shows the messages next to the input.
#pragma once

#include "taskbench/value.h"

#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace taskbench::gui::mapinput {

/// Refuse to build more inputs than this from one range (a typo must not eat the memory).
inline constexpr long long kMaxInputs = 10'000'000;

/// "a..b" (inclusive), "a..b:step", "range(n)", "range(a, b[, step])" (exclusive end, as in
/// Python). Integers, or doubles when any bound is a decimal.
std::optional<std::vector<Value>> parseRange(const QString &text, QString *error);
/// True if the text looks like a range (so parseValues treats it as one).
bool looksLikeRange(const QString &text);
/// A JSON array, or items separated by commas, semicolons, spaces or new lines; each item is
/// a JSON literal or else a bare string. Quoted strings may contain separators.
std::optional<std::vector<Value>> parseList(const QString &text, QString *error);
/// A range if it looks like one, otherwise a list.
std::optional<std::vector<Value>> parseValues(const QString &text, QString *error);
/// One JSON value per non-empty line. Errors name the line.
std::optional<std::vector<Value>> parseJsonLines(const QString &text, QString *error);

struct Table
{
    QStringList header; ///< empty when the file has no header
    std::vector<std::vector<Value>> rows;
};
/// CSV (RFC 4180 quoting). With hasHeader the first row names the columns. Cells are parsed
/// as JSON literals where they are numbers, booleans or null, else kept as strings.
std::optional<Table> parseCsv(const QString &text, bool hasHeader, QString *error);
/// A first row that has no numeric cell and whose cells are all identifiers is a header.
bool csvLooksLikeHeader(const QString &text);

} // namespace taskbench::gui::mapinput
