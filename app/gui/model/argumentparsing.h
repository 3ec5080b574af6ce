// Turning what a user typed into task arguments, per parameter type ("int", "float", "bool",
// "str", "bytes", "list[...]", "map[str, ...]", "optional[...]", "any"), with a message fit
// to show next to the field when the text does not fit the type. Widget-free and tested.
#pragma once

#include "taskbench/value.h"

#include <QString>

#include <optional>
#include <string>

namespace taskbench::gui {

enum class ParamKind { Bool, Int, Float, Str, Bytes, List, Map, Optional, Any };

ParamKind paramKind(const std::string &type);
/// The type inside optional[...] / list[...] ("any" when there is none).
std::string innerType(const std::string &type);

/// Parses text for a parameter of `type`. Returns nullopt and sets *error on failure.
///   int: "42", "-3", "1_000"    float: "2.5", "1e-3", "7"    bool: true/false/yes/no/1/0
///   str: the text as is          list/map: JSON               optional: empty means null
///   any: a JSON literal, or else the bare text as a string
std::optional<Value> parseTypedText(const std::string &type, const QString &text, QString *error);

/// Whether a value (from a list, a file or JSON) fits a parameter type; ints fit floats.
/// References to futures always fit (checked when the task runs).
bool valueFitsType(const std::string &type, const Value &value, QString *error);

} // namespace taskbench::gui
