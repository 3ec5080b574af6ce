// Serialization and display of Values: canonical CBOR (wire and hashing), JSON (command line,
// graph files, GUI editors), repr, and the deterministic token used for pure task keys.
//
// Decoding never trusts its input: malformed, truncated or hostile bytes yield an error
// message, never a crash, and nesting depth is bounded.
#pragma once

#include "taskbench/value.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskbench {

/// The CBOR tag that marks a future reference (its content is the key string).
inline constexpr unsigned kFutureRefCborTag = 40001;
/// Deepest nesting accepted when decoding (lists/maps inside lists/maps).
inline constexpr int kMaxDecodeDepth = 256;

/// Canonical CBOR: shortest integer forms, map keys sorted (std::map order), definite lengths.
std::string encodeCbor(const Value &value);
/// Appends the canonical CBOR of value to out (no allocation of its own when out has room).
void appendCbor(std::string &out, const Value &value);
/// Decodes exactly one CBOR item filling all of bytes. On failure returns nullopt and sets
/// *error (when given) to a readable reason.
std::optional<Value> decodeCbor(std::string_view bytes, std::string *error = nullptr);

/// JSON text. Bytes become {"$bytes": "<base64>"}, future references {"$ref": "key"}.
std::string toJson(const Value &value, bool pretty = false);
/// Parses JSON text; {"$ref": "key"} becomes a future reference, {"$bytes": "..."} bytes.
/// Integers that fit in int64 stay ints; other numbers become doubles.
std::optional<Value> fromJson(std::string_view text, std::string *error = nullptr);

/// Short one-line display: 2, 3.5, "abc", [1, 2, 3], {"a": 1}, <future inc-3f2a...>,
/// b'\x00\x01'. Long content is elided with "..." to keep it under maxChars.
std::string repr(const Value &value, std::size_t maxChars = 80);

/// Parses a command-line argument: a JSON literal, or else (a bare word) a string.
Value parseArgument(std::string_view text);

/// A deterministic 128-bit token (32 hex digits) of a function name and its arguments,
/// computed over their canonical CBOR. Equal calls give equal tokens.
std::string tokenize(std::string_view function, const std::vector<Value> &args);
/// A fresh random token (32 hex digits) for non-pure calls.
std::string randomToken();

} // namespace taskbench
