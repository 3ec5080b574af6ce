// JSON for Values (RFC 8259, strict: no comments, no trailing commas, no NaN): the writer, the
// parser and parseArgument (a command-line argument is a JSON literal or else a bare string).
// Bytes travel as {"$bytes": "<base64>"} and future references as {"$ref": "key"}.
//
// Hand-written rather than QJsonDocument: Qt 6.4 parses `2.0`, `1e3` and `-0.0` as integers
// and writes the double 2.0 as `2`, which would silently turn floats into ints on every round
// trip. Qt still does the base64. The parser treats its input as hostile: nesting is bounded
// by kMaxDecodeDepth and a failure is a message with the line and column, never a crash.
#include "value/text_p.h"

#include "taskbench/valuecodec.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <new>

#include <QByteArray>

namespace taskbench {

namespace {

using detail::text::appendDouble;
using detail::text::appendEscaped;
using detail::text::appendHexByte;

void writeJson(std::string &out, const Value &v, bool pretty, int indent)
{
    const auto newline = [&](int level) {
        if (pretty) {
            out.push_back('\n');
            out.append(std::size_t(level) * 4, ' ');
        }
    };
    switch (v.type()) {
    case Value::Type::Null:
        out += "null";
        return;
    case Value::Type::Bool:
        out += v.toBool() ? "true" : "false";
        return;
    case Value::Type::Int: {
        char buf[24];
        const auto res = std::to_chars(buf, buf + sizeof buf, v.toInt());
        out.append(buf, res.ptr);
        return;
    }
    case Value::Type::Double: {
        const double d = v.toDouble();
        if (!std::isfinite(d))
            out += "null"; // JSON has no NaN or infinity
        else
            appendDouble(out, d);
        return;
    }
    case Value::Type::String:
        out.push_back('"');
        appendEscaped(out, v.toString());
        out.push_back('"');
        return;
    case Value::Type::Bytes: {
        const auto &data = v.toBytes().data;
        const QByteArray b64 = QByteArray::fromRawData(reinterpret_cast<const char *>(data.data()),
                                                       qsizetype(data.size()))
                                   .toBase64();
        out += pretty ? "{\"$bytes\": \"" : "{\"$bytes\":\"";
        out.append(b64.constData(), std::size_t(b64.size()));
        out += "\"}";
        return;
    }
    case Value::Type::Ref:
        out += pretty ? "{\"$ref\": \"" : "{\"$ref\":\"";
        appendEscaped(out, v.toRef().key);
        out += "\"}";
        return;
    case Value::Type::List: {
        const Value::List &list = v.toList();
        if (list.empty()) {
            out += "[]";
            return;
        }
        out.push_back('[');
        bool first = true;
        for (const Value &item : list) {
            if (!first)
                out.push_back(',');
            first = false;
            newline(indent + 1);
            writeJson(out, item, pretty, indent + 1);
        }
        newline(indent);
        out.push_back(']');
        return;
    }
    case Value::Type::Map: {
        const Value::Map &map = v.toMap();
        if (map.empty()) {
            out += "{}";
            return;
        }
        out.push_back('{');
        bool first = true;
        for (const auto &[key, item] : map) {
            if (!first)
                out.push_back(',');
            first = false;
            newline(indent + 1);
            out.push_back('"');
            appendEscaped(out, key);
            out += pretty ? "\": " : "\":";
            writeJson(out, item, pretty, indent + 1);
        }
        newline(indent);
        out.push_back('}');
        return;
    }
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

class JsonParser
{
public:
    explicit JsonParser(std::string_view text)
        : m_begin(text.data())
        , m_p(text.data())
        , m_end(text.data() + text.size())
    {}

    std::optional<Value> parseDocument()
    {
        if (m_end - m_p >= 3 && std::memcmp(m_p, "\xef\xbb\xbf", 3) == 0)
            m_p += 3; // UTF-8 byte order mark
        skipSpace();
        Value v;
        if (!parseValue(v, 0))
            return std::nullopt;
        skipSpace();
        if (m_p != m_end) {
            fail("unexpected text after the value");
            return std::nullopt;
        }
        return v;
    }
    const std::string &error() const { return m_error; }

private:
    bool fail(const std::string &message) { return failAt(m_p, message); }
    bool failAt(const char *at, const std::string &message)
    {
        std::size_t line = 1;
        const char *lineStart = m_begin;
        for (const char *q = m_begin; q < at; ++q) {
            if (*q == '\n') {
                ++line;
                lineStart = q + 1;
            }
        }
        m_error = "line " + std::to_string(line) + ", column " + std::to_string(at - lineStart + 1)
                  + " (offset " + std::to_string(at - m_begin) + "): " + message;
        return false;
    }
    std::string describeHere() const
    {
        if (m_p == m_end)
            return "end of input";
        const auto c = static_cast<unsigned char>(*m_p);
        if (c >= 0x20 && c < 0x7f)
            return std::string("'") + char(c) + "'";
        std::string s = "byte 0x";
        appendHexByte(s, c);
        return s;
    }
    void skipSpace()
    {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t'))
            ++m_p;
    }
    bool literal(std::string_view word)
    {
        if (std::size_t(m_end - m_p) >= word.size()
            && std::memcmp(m_p, word.data(), word.size()) == 0) {
            m_p += word.size();
            return true;
        }
        return false;
    }

    bool parseValue(Value &out, int depth);
    bool parseNumber(Value &out);
    bool parseString(std::string &out);
    bool parseHex4(unsigned &code);
    bool parseArray(Value &out, int depth);
    bool parseObject(Value &out, int depth);

    const char *m_begin;
    const char *m_p;
    const char *m_end;
    std::string m_error;
};

bool JsonParser::parseValue(Value &out, int depth)
{
    if (m_p == m_end)
        return fail("expected a value, found end of input");
    switch (*m_p) {
    case '{':
        return parseObject(out, depth);
    case '[':
        return parseArray(out, depth);
    case '"': {
        std::string s;
        if (!parseString(s))
            return false;
        out = Value(std::move(s));
        return true;
    }
    case 't':
        if (literal("true")) {
            out = Value(true);
            return true;
        }
        break;
    case 'f':
        if (literal("false")) {
            out = Value(false);
            return true;
        }
        break;
    case 'n':
        if (literal("null")) {
            out = Value();
            return true;
        }
        break;
    default:
        if (*m_p == '-' || (*m_p >= '0' && *m_p <= '9'))
            return parseNumber(out);
    }
    return fail("expected a value, found " + describeHere());
}

bool JsonParser::parseNumber(Value &out)
{
    const char *start = m_p;
    const auto digits = [&] {
        const char *from = m_p;
        while (m_p < m_end && *m_p >= '0' && *m_p <= '9')
            ++m_p;
        return m_p > from;
    };
    if (*m_p == '-')
        ++m_p;
    if (m_p < m_end && *m_p == '0') {
        ++m_p;
    } else if (!digits()) {
        return fail("expected a digit, found " + describeHere());
    }
    bool isInteger = true;
    bool negativeExponent = false;
    if (m_p < m_end && *m_p == '.') {
        ++m_p;
        isInteger = false;
        if (!digits())
            return fail("expected a digit after '.', found " + describeHere());
    }
    if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
        ++m_p;
        isInteger = false;
        if (m_p < m_end && (*m_p == '+' || *m_p == '-'))
            negativeExponent = *m_p++ == '-';
        if (!digits())
            return fail("expected a digit in the exponent, found " + describeHere());
    }
    if (isInteger) {
        std::int64_t i = 0;
        const auto res = std::from_chars(start, m_p, i);
        if (res.ec == std::errc() && res.ptr == m_p) {
            out = Value(i);
            return true;
        }
        // Too big for int64: fall through to a double, as the header promises.
    }
    double d = 0;
    const auto res = std::from_chars(start, m_p, d);
    if (res.ec == std::errc::result_out_of_range) {
        if (!negativeExponent)
            return failAt(start, "number " + std::string(start, m_p) + " is out of range");
        d = *start == '-' ? -0.0 : 0.0; // underflow
    } else if (res.ec != std::errc() || res.ptr != m_p) {
        return failAt(start, "malformed number");
    }
    out = Value(d);
    return true;
}

bool JsonParser::parseHex4(unsigned &code)
{
    if (m_end - m_p < 4)
        return fail("truncated \\u escape");
    code = 0;
    for (int i = 0; i < 4; ++i) {
        const char c = m_p[i];
        unsigned digit;
        if (c >= '0' && c <= '9')
            digit = unsigned(c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            digit = unsigned(c - 'A' + 10);
        else
            return failAt(m_p + i, "invalid hex digit in \\u escape");
        code = code * 16 + digit;
    }
    m_p += 4;
    return true;
}

void appendUtf8(std::string &out, unsigned code)
{
    if (code < 0x80) {
        out.push_back(char(code));
    } else if (code < 0x800) {
        out.push_back(char(0xc0 | (code >> 6)));
        out.push_back(char(0x80 | (code & 0x3f)));
    } else if (code < 0x10000) {
        out.push_back(char(0xe0 | (code >> 12)));
        out.push_back(char(0x80 | ((code >> 6) & 0x3f)));
        out.push_back(char(0x80 | (code & 0x3f)));
    } else {
        out.push_back(char(0xf0 | (code >> 18)));
        out.push_back(char(0x80 | ((code >> 12) & 0x3f)));
        out.push_back(char(0x80 | ((code >> 6) & 0x3f)));
        out.push_back(char(0x80 | (code & 0x3f)));
    }
}

bool JsonParser::parseString(std::string &out)
{
    const char *open = m_p;
    ++m_p; // the opening quote
    for (;;) {
        const char *run = m_p;
        while (m_p < m_end && *m_p != '"' && *m_p != '\\'
               && static_cast<unsigned char>(*m_p) >= 0x20)
            ++m_p;
        out.append(run, m_p);
        if (m_p == m_end)
            return failAt(open, "unterminated string");
        const char c = *m_p;
        if (c == '"') {
            ++m_p;
            return true;
        }
        if (c != '\\')
            return fail("unescaped control character in string");
        ++m_p;
        if (m_p == m_end)
            return failAt(open, "unterminated string");
        switch (*m_p++) {
        case '"':
            out.push_back('"');
            break;
        case '\\':
            out.push_back('\\');
            break;
        case '/':
            out.push_back('/');
            break;
        case 'b':
            out.push_back('\b');
            break;
        case 'f':
            out.push_back('\f');
            break;
        case 'n':
            out.push_back('\n');
            break;
        case 'r':
            out.push_back('\r');
            break;
        case 't':
            out.push_back('\t');
            break;
        case 'u': {
            unsigned code;
            if (!parseHex4(code))
                return false;
            if (code >= 0xd800 && code < 0xdc00) {
                // A high surrogate needs its low half; a lone one becomes U+FFFD, as other
                // decoders do, rather than failing on text that JavaScript happily writes.
                unsigned low = 0;
                if (m_end - m_p >= 6 && m_p[0] == '\\' && m_p[1] == 'u') {
                    m_p += 2;
                    if (!parseHex4(low))
                        return false;
                    if (low >= 0xdc00 && low < 0xe000) {
                        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                    } else {
                        appendUtf8(out, 0xfffd);
                        code = (low >= 0xd800 && low < 0xe000) ? 0xfffd : low;
                    }
                } else {
                    code = 0xfffd;
                }
            } else if (code >= 0xdc00 && code < 0xe000) {
                code = 0xfffd;
            }
            appendUtf8(out, code);
            break;
        }
        default:
            return failAt(m_p - 1, "invalid escape '\\" + std::string(1, m_p[-1]) + "'");
        }
    }
}

bool JsonParser::parseArray(Value &out, int depth)
{
    if (depth >= kMaxDecodeDepth)
        return fail("nesting deeper than " + std::to_string(kMaxDecodeDepth) + " levels");
    ++m_p; // '['
    Value::List list;
    skipSpace();
    if (m_p < m_end && *m_p == ']') {
        ++m_p;
        out = Value(std::move(list));
        return true;
    }
    for (;;) {
        skipSpace();
        list.emplace_back();
        if (!parseValue(list.back(), depth + 1))
            return false;
        skipSpace();
        if (m_p < m_end && *m_p == ',') {
            ++m_p;
            continue;
        }
        if (m_p < m_end && *m_p == ']') {
            ++m_p;
            out = Value(std::move(list));
            return true;
        }
        return fail("expected ',' or ']' in array, found " + describeHere());
    }
}

bool JsonParser::parseObject(Value &out, int depth)
{
    if (depth >= kMaxDecodeDepth)
        return fail("nesting deeper than " + std::to_string(kMaxDecodeDepth) + " levels");
    const char *open = m_p;
    ++m_p; // '{'
    Value::Map map;
    skipSpace();
    if (m_p < m_end && *m_p == '}') {
        ++m_p;
        out = Value(std::move(map));
        return true;
    }
    for (;;) {
        skipSpace();
        if (m_p == m_end || *m_p != '"')
            return fail("expected a string key in object, found " + describeHere());
        const char *keyAt = m_p;
        std::string key;
        if (!parseString(key))
            return false;
        skipSpace();
        if (m_p == m_end || *m_p != ':')
            return fail("expected ':' after object key, found " + describeHere());
        ++m_p;
        skipSpace();
        auto [it, inserted] = map.try_emplace(std::move(key));
        if (!inserted)
            return failAt(keyAt, "duplicate key \"" + it->first + "\"");
        if (!parseValue(it->second, depth + 1))
            return false;
        skipSpace();
        if (m_p < m_end && *m_p == ',') {
            ++m_p;
            continue;
        }
        if (m_p < m_end && *m_p == '}') {
            ++m_p;
            break;
        }
        return fail("expected ',' or '}' in object, found " + describeHere());
    }
    // The two escapes of Values JSON has no type for.
    if (map.size() == 1) {
        const auto &[key, item] = *map.begin();
        if (key == "$ref") {
            if (!item.isString())
                return failAt(open, "\"$ref\" must be a string (a future key or task name)");
            out = Value::ref(item.toString());
            return true;
        }
        if (key == "$bytes") {
            if (!item.isString())
                return failAt(open, "\"$bytes\" must be a base64 string");
            const std::string &text = item.toString();
            const auto decoded = QByteArray::fromBase64Encoding(
                QByteArray::fromRawData(text.data(), qsizetype(text.size())),
                QByteArray::AbortOnBase64DecodingErrors);
            if (!decoded)
                return failAt(open, "\"$bytes\" is not valid base64");
            Bytes bytes;
            bytes.data.assign(decoded.decoded.begin(), decoded.decoded.end());
            out = Value(std::move(bytes));
            return true;
        }
    }
    out = Value(std::move(map));
    return true;
}

} // namespace

std::string toJson(const Value &value, bool pretty)
{
    std::string out;
    writeJson(out, value, pretty, 0);
    return out;
}

std::optional<Value> fromJson(std::string_view text, std::string *error)
{
    JsonParser parser(text);
    std::optional<Value> value;
    try {
        value = parser.parseDocument();
    } catch (const std::bad_alloc &) {
        if (error)
            *error = "out of memory parsing " + std::to_string(text.size()) + " bytes of JSON";
        return std::nullopt;
    }
    if (!value && error)
        *error = parser.error();
    return value;
}

Value parseArgument(std::string_view text)
{
    if (std::optional<Value> v = fromJson(text))
        return std::move(*v);
    return Value(text);
}

} // namespace taskbench
