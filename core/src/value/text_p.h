// Text helpers shared by the JSON writer and repr: hex digits, UTF-8 validation, JSON string
// escaping and the shortest round-tripping spelling of a double.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace taskbench::detail::text {

inline constexpr char kHexDigits[] = "0123456789abcdef";

inline void appendHexByte(std::string &out, unsigned char c)
{
    out.push_back(kHexDigits[c >> 4]);
    out.push_back(kHexDigits[c & 0xf]);
}

/// Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates,
/// nothing above U+10FFFF), or 0 if there is none.
std::size_t utf8SequenceLength(const unsigned char *p, const unsigned char *end);

/// Appends s as the inside of a double-quoted JSON string. Invalid UTF-8 becomes U+FFFD so
/// that the output is always valid JSON text.
void appendEscaped(std::string &out, std::string_view s);

/// Shortest text that reads back as the same double, always recognisably a float: "2.0",
/// "0.1", "1e+16". Non-finite values are spelled "nan", "inf" and "-inf".
void appendDouble(std::string &out, double d);

} // namespace taskbench::detail::text
