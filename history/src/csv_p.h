// RFC 4180 quoting of one CSV field, shared by the session export and the comparison.
#pragma once

#include <string>

namespace taskbench::history::csv {

/// The field as is, or quoted (inner quotes doubled) when it holds a comma, quote or newline.
inline std::string field(const std::string &s)
{
    if (s.find_first_of(",\"\r\n") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + "\"";
}

} // namespace taskbench::history::csv
