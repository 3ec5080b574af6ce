// Value serialization: a hand-written canonical CBOR codec (the wire format of process workers
// and the input of pure-task tokens), a JSON reader and writer, repr, command-line argument
// parsing and the task tokens.
//
// Both codecs are hand-written rather than built on QCborStreamWriter/QJsonDocument. CBOR
// sits on the hot path (hundreds of thousands of small values per second), where going
// through QCborValue/QString would allocate and convert twice per item. For JSON, Qt 6.4
// parses `2.0`, `1e3` and `-0.0` as integers and writes the double 2.0 as `2`, which would
// silently turn floats into ints on every round trip. Qt still does the base64 and MD5.
//
// Both decoders treat their input as hostile: every length is checked against the bytes
// that remain before anything is allocated, nesting is bounded by kMaxDecodeDepth, and a
// failure is a message with the offset (CBOR) or line and column (JSON), never a crash.
#include "taskbench/valuecodec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <random>

#include <QByteArray>
#include <QByteArrayView>
#include <QCryptographicHash>

namespace taskbench {

namespace {

// ---------------------------------------------------------------------------------------
// Shared helpers

constexpr char kHexDigits[] = "0123456789abcdef";

void appendHexByte(std::string &out, unsigned char c)
{
    out.push_back(kHexDigits[c >> 4]);
    out.push_back(kHexDigits[c & 0xf]);
}

/// Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates,
/// nothing above U+10FFFF), or 0 if there is none.
std::size_t utf8SequenceLength(const unsigned char *p, const unsigned char *end)
{
    const unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (std::size_t(end - p) < n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (std::size_t i = 2; i < n; ++i)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/// Appends s as the inside of a double-quoted JSON string. Invalid UTF-8 becomes U+FFFD so
/// that the output is always valid JSON text.
void appendEscaped(std::string &out, std::string_view s)
{
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    const auto *end = p + s.size();
    while (p < end) {
        const unsigned char c = *p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            // Copy the whole run of plain ASCII at once.
            const unsigned char *run = p;
            while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
                ++p;
            out.append(reinterpret_cast<const char *>(run), std::size_t(p - run));
            continue;
        }
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                appendHexByte(out, c);
            } else if (const std::size_t n = utf8SequenceLength(p, end); n > 0) {
                out.append(reinterpret_cast<const char *>(p), n);
                p += n;
                continue;
            } else {
                out += "\\ufffd";
            }
        }
        ++p;
    }
}

/// Shortest text that reads back as the same double, always recognisably a float: "2.0",
/// "0.1", "1e+16". Non-finite values are spelled "nan", "inf" and "-inf".
void appendDouble(std::string &out, double d)
{
    if (std::isnan(d)) {
        out += "nan";
        return;
    }
    if (std::isinf(d)) {
        out += d < 0 ? "-inf" : "inf";
        return;
    }
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, d);
    const std::string_view text(buf, std::size_t(res.ptr - buf));
    out += text;
    if (text.find_first_of(".e") == std::string_view::npos)
        out += ".0";
}

// ---------------------------------------------------------------------------------------
// CBOR

enum Major : unsigned {
    kUnsigned = 0,
    kNegative = 1,
    kByteString = 2,
    kTextString = 3,
    kArray = 4,
    kMapMajor = 5,
    kTag = 6,
    kSimple = 7,
};

inline void writeHead(std::string &out, unsigned major, std::uint64_t n)
{
    const auto m = static_cast<unsigned char>(major << 5);
    if (n < 24) {
        out.push_back(char(m | n));
        return;
    }
    char buf[9];
    std::size_t len;
    if (n <= 0xff) {
        buf[0] = char(m | 24);
        len = 1;
    } else if (n <= 0xffff) {
        buf[0] = char(m | 25);
        len = 2;
    } else if (n <= 0xffffffffu) {
        buf[0] = char(m | 26);
        len = 4;
    } else {
        buf[0] = char(m | 27);
        len = 8;
    }
    for (std::size_t i = 0; i < len; ++i)
        buf[1 + i] = char(n >> (8 * (len - 1 - i)));
    out.append(buf, len + 1);
}

double halfToDouble(std::uint16_t h)
{
    const int exponent = (h >> 10) & 0x1f;
    const int mantissa = h & 0x3ff;
    double value;
    if (exponent == 0)
        value = std::ldexp(mantissa, -24);
    else if (exponent == 31)
        value = mantissa == 0 ? std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::quiet_NaN();
    else
        value = std::ldexp(mantissa + 1024, exponent - 25);
    return (h & 0x8000) ? -value : value;
}

/// The half-precision bits of f if f converts to half precision exactly (finite only).
std::optional<std::uint16_t> exactHalf(float f)
{
    const auto bits = std::bit_cast<std::uint32_t>(f);
    const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000);
    const int exponent = int((bits >> 23) & 0xff);
    const std::uint32_t mantissa = bits & 0x7fffff;
    if (exponent == 0 && mantissa == 0)
        return sign; // +-0
    if (exponent == 0 || exponent == 0xff)
        return std::nullopt; // float subnormals are far below half's range; inf/nan elsewhere
    const int e = exponent - 127 + 15;
    if (e >= 31)
        return std::nullopt;
    if (e >= 1) {
        if (mantissa & 0x1fff)
            return std::nullopt;
        return static_cast<std::uint16_t>(sign | (e << 10) | (mantissa >> 13));
    }
    // Half subnormal: value = m * 2^-24 with m < 1024.
    const std::uint32_t full = mantissa | 0x800000;
    const int shift = 14 - e; // 13 for e == 1, growing as e falls
    if (shift > 24)
        return std::nullopt;
    if (full & ((1u << shift) - 1))
        return std::nullopt;
    return static_cast<std::uint16_t>(sign | (full >> shift));
}

/// Canonical float: the shortest of half, single or double that keeps the exact value.
void writeDouble(std::string &out, double d)
{
    if (std::isnan(d)) {
        out.append("\xf9\x7e\x00", 3);
        return;
    }
    const auto f = static_cast<float>(d);
    if (double(f) == d) {
        if (std::isinf(f)) {
            out.append(d < 0 ? "\xf9\xfc\x00" : "\xf9\x7c\x00", 3);
            return;
        }
        if (const auto h = exactHalf(f)) {
            const char buf[3] = {char(0xf9), char(*h >> 8), char(*h & 0xff)};
            out.append(buf, 3);
            return;
        }
        const auto bits = std::bit_cast<std::uint32_t>(f);
        char buf[5] = {char(0xfa)};
        for (int i = 0; i < 4; ++i)
            buf[1 + i] = char(bits >> (8 * (3 - i)));
        out.append(buf, 5);
        return;
    }
    const auto bits = std::bit_cast<std::uint64_t>(d);
    char buf[9] = {char(0xfb)};
    for (int i = 0; i < 8; ++i)
        buf[1 + i] = char(bits >> (8 * (7 - i)));
    out.append(buf, 9);
}

void writeCbor(std::string &out, const Value &v)
{
    switch (v.type()) {
    case Value::Type::Null:
        out.push_back(char(0xf6));
        return;
    case Value::Type::Bool:
        out.push_back(v.toBool() ? char(0xf5) : char(0xf4));
        return;
    case Value::Type::Int: {
        const std::int64_t i = v.toInt();
        if (i >= 0)
            writeHead(out, kUnsigned, std::uint64_t(i));
        else
            writeHead(out, kNegative, ~std::uint64_t(i)); // -1 - i, without overflow
        return;
    }
    case Value::Type::Double:
        writeDouble(out, v.toDouble());
        return;
    case Value::Type::String: {
        const std::string &s = v.toString();
        writeHead(out, kTextString, s.size());
        out.append(s);
        return;
    }
    case Value::Type::Bytes: {
        const auto &data = v.toBytes().data;
        writeHead(out, kByteString, data.size());
        out.append(reinterpret_cast<const char *>(data.data()), data.size());
        return;
    }
    case Value::Type::List: {
        const Value::List &list = v.toList();
        writeHead(out, kArray, list.size());
        for (const Value &item : list)
            writeCbor(out, item);
        return;
    }
    case Value::Type::Map: {
        const Value::Map &map = v.toMap();
        writeHead(out, kMapMajor, map.size());
        for (const auto &[key, item] : map) {
            writeHead(out, kTextString, key.size());
            out.append(key);
            writeCbor(out, item);
        }
        return;
    }
    case Value::Type::Ref: {
        const std::string &key = v.toRef().key;
        writeHead(out, kTag, kFutureRefCborTag);
        writeHead(out, kTextString, key.size());
        out.append(key);
        return;
    }
    }
}

const char *majorName(unsigned major)
{
    static const char *const names[] = {"unsigned integer",
                                        "negative integer",
                                        "byte string",
                                        "text string",
                                        "array",
                                        "map",
                                        "tag",
                                        "simple value or float"};
    return names[major & 7];
}

class CborReader
{
public:
    explicit CborReader(std::string_view bytes)
        : m_begin(reinterpret_cast<const unsigned char *>(bytes.data()))
        , m_p(m_begin)
        , m_end(m_begin + bytes.size())
        , m_reserveBudget(bytes.size())
    {}

    bool readItem(Value &out, int depth);
    bool atEnd() const { return m_p == m_end; }
    std::size_t offset() const { return std::size_t(m_p - m_begin); }
    std::size_t remaining() const { return std::size_t(m_end - m_p); }
    const std::string &error() const { return m_error; }

private:
    struct Head
    {
        unsigned major;
        unsigned info;
        std::uint64_t arg;
        std::size_t offset;
    };

    bool fail(std::size_t at, const std::string &message)
    {
        m_error = message + " at offset " + std::to_string(at);
        return false;
    }
    bool readHead(Head &head);
    bool readText(const Head &head, std::string &out);

    const unsigned char *m_begin;
    const unsigned char *m_p;
    const unsigned char *m_end;
    std::size_t m_reserveBudget; ///< array items still allowed to be reserved up front
    std::string m_error;
};

bool CborReader::readHead(Head &head)
{
    head.offset = offset();
    if (m_p == m_end)
        return fail(head.offset, "truncated input: expected a data item");
    const unsigned char initial = *m_p++;
    head.major = initial >> 5;
    head.info = initial & 0x1f;
    if (head.info < 24) {
        head.arg = head.info;
        return true;
    }
    if (head.info <= 27) {
        const std::size_t len = std::size_t(1) << (head.info - 24);
        if (remaining() < len)
            return fail(head.offset,
                        "truncated input: " + std::string(majorName(head.major)) + " header needs "
                            + std::to_string(len) + " more bytes");
        std::uint64_t arg = 0;
        for (std::size_t i = 0; i < len; ++i)
            arg = (arg << 8) | m_p[i];
        m_p += len;
        head.arg = arg;
        return true;
    }
    if (head.info == 31) {
        if (initial == 0xff)
            return fail(head.offset, "unexpected break byte");
        return fail(head.offset,
                    std::string("indefinite-length ") + majorName(head.major)
                        + " is not supported");
    }
    return fail(head.offset,
                "reserved additional information " + std::to_string(head.info) + " in "
                    + majorName(head.major) + " header");
}

bool CborReader::readText(const Head &head, std::string &out)
{
    if (head.arg > remaining())
        return fail(head.offset,
                    "text string of " + std::to_string(head.arg) + " bytes exceeds the "
                        + std::to_string(remaining()) + " bytes left");
    out.assign(reinterpret_cast<const char *>(m_p), std::size_t(head.arg));
    m_p += head.arg;
    return true;
}

bool CborReader::readItem(Value &out, int depth)
{
    Head head;
    if (!readHead(head))
        return false;
    switch (head.major) {
    case kUnsigned:
        if (head.arg > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
            return fail(head.offset, "integer " + std::to_string(head.arg) + " exceeds int64");
        out = Value(std::int64_t(head.arg));
        return true;
    case kNegative:
        if (head.arg > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
            return fail(head.offset,
                        "negative integer -1-" + std::to_string(head.arg) + " is below int64");
        out = Value(-1 - std::int64_t(head.arg));
        return true;
    case kByteString: {
        if (head.arg > remaining())
            return fail(head.offset,
                        "byte string of " + std::to_string(head.arg) + " bytes exceeds the "
                            + std::to_string(remaining()) + " bytes left");
        Bytes bytes;
        bytes.data.assign(m_p, m_p + head.arg);
        m_p += head.arg;
        out = Value(std::move(bytes));
        return true;
    }
    case kTextString: {
        std::string text;
        if (!readText(head, text))
            return false;
        out = Value(std::move(text));
        return true;
    }
    case kArray: {
        if (depth >= kMaxDecodeDepth)
            return fail(head.offset,
                        "nesting deeper than " + std::to_string(kMaxDecodeDepth) + " levels");
        // Every item takes at least one byte, so a count above what is left is a lie.
        if (head.arg > remaining())
            return fail(head.offset,
                        "array of " + std::to_string(head.arg) + " items exceeds the "
                            + std::to_string(remaining()) + " bytes left");
        // Each item belongs to one array, so honest counts add up to at most the input size;
        // reserving from that budget gives honest input exact reservations while nested
        // liars (each claiming the rest of the input) cannot reserve more than it in total.
        // Past a million items the vector grows as it fills instead.
        const auto reserve
            = std::min({std::size_t(head.arg), m_reserveBudget, std::size_t(1) << 20});
        m_reserveBudget -= reserve;
        Value::List list;
        list.reserve(reserve);
        for (std::uint64_t i = 0; i < head.arg; ++i) {
            list.emplace_back();
            if (!readItem(list.back(), depth + 1))
                return false;
        }
        out = Value(std::move(list));
        return true;
    }
    case kMapMajor: {
        if (depth >= kMaxDecodeDepth)
            return fail(head.offset,
                        "nesting deeper than " + std::to_string(kMaxDecodeDepth) + " levels");
        if (head.arg > remaining() / 2)
            return fail(head.offset,
                        "map of " + std::to_string(head.arg) + " entries exceeds the "
                            + std::to_string(remaining()) + " bytes left");
        Value::Map map;
        for (std::uint64_t i = 0; i < head.arg; ++i) {
            Head keyHead;
            if (!readHead(keyHead))
                return false;
            if (keyHead.major != kTextString)
                return fail(keyHead.offset,
                            std::string("map key must be a text string, not a ")
                                + majorName(keyHead.major));
            std::string key;
            if (!readText(keyHead, key))
                return false;
            // Canonical input arrives sorted: append at the end without a search.
            auto it = map.end();
            if (map.empty() || map.rbegin()->first < key) {
                it = map.emplace_hint(map.end(), std::move(key), Value());
            } else {
                auto [pos, inserted] = map.try_emplace(std::move(key));
                if (!inserted)
                    return fail(keyHead.offset, "duplicate map key \"" + pos->first + "\"");
                it = pos;
            }
            if (!readItem(it->second, depth + 1))
                return false;
        }
        out = Value(std::move(map));
        return true;
    }
    case kTag: {
        if (head.arg != kFutureRefCborTag)
            return fail(head.offset, "unsupported tag " + std::to_string(head.arg));
        Head content;
        if (!readHead(content))
            return false;
        if (content.major != kTextString)
            return fail(content.offset,
                        "future reference (tag " + std::to_string(kFutureRefCborTag)
                            + ") must wrap a text string, not a " + majorName(content.major));
        std::string key;
        if (!readText(content, key))
            return false;
        out = Value(FutureRef{std::move(key)});
        return true;
    }
    default: // kSimple
        switch (head.info) {
        case 20:
            out = Value(false);
            return true;
        case 21:
            out = Value(true);
            return true;
        case 22:
            out = Value();
            return true;
        case 25:
            out = Value(halfToDouble(std::uint16_t(head.arg)));
            return true;
        case 26:
            out = Value(double(std::bit_cast<float>(std::uint32_t(head.arg))));
            return true;
        case 27:
            out = Value(std::bit_cast<double>(head.arg));
            return true;
        default:
            return fail(head.offset, "unsupported simple value " + std::to_string(head.arg));
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON writing

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
// JSON parsing (RFC 8259, strict: no comments, no trailing commas, no NaN)

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

// ---------------------------------------------------------------------------------------
// repr

class ReprWriter
{
public:
    explicit ReprWriter(std::size_t limit)
        : m_limit(limit)
    {}
    // Stops descending once the text is past the limit: a huge list costs only what shows.
    void write(const Value &v)
    {
        if (full())
            return;
        switch (v.type()) {
        case Value::Type::Null:
            m_out += "null";
            break;
        case Value::Type::Bool:
            m_out += v.toBool() ? "true" : "false";
            break;
        case Value::Type::Int:
            m_out += std::to_string(v.toInt());
            break;
        case Value::Type::Double:
            appendDouble(m_out, v.toDouble());
            break;
        case Value::Type::String:
            writeString(v.toString());
            break;
        case Value::Type::Bytes:
            writeBytes(v.toBytes().data);
            break;
        case Value::Type::Ref:
            m_out += "<future ";
            m_out += v.toRef().key;
            m_out.push_back('>');
            break;
        case Value::Type::List: {
            m_out.push_back('[');
            bool first = true;
            for (const Value &item : v.toList()) {
                if (full())
                    return;
                if (!first)
                    m_out += ", ";
                first = false;
                write(item);
            }
            m_out.push_back(']');
            break;
        }
        case Value::Type::Map: {
            m_out.push_back('{');
            bool first = true;
            for (const auto &[key, item] : v.toMap()) {
                if (full())
                    return;
                if (!first)
                    m_out += ", ";
                first = false;
                writeString(key);
                m_out += ": ";
                write(item);
            }
            m_out.push_back('}');
            break;
        }
        }
    }

    std::string take()
    {
        if (m_out.size() <= m_limit)
            return std::move(m_out);
        const std::size_t keep = m_limit > 3 ? m_limit - 3 : 0;
        std::size_t cut = keep;
        // Do not split a UTF-8 sequence.
        while (cut > 0 && (static_cast<unsigned char>(m_out[cut]) & 0xc0) == 0x80)
            --cut;
        m_out.resize(cut);
        m_out += "...";
        return std::move(m_out);
    }

private:
    bool full() const { return m_out.size() > m_limit; }
    void writeString(std::string_view s)
    {
        // Escaping never shrinks text, so a prefix a little longer than the room left (cut
        // at a character boundary) already overflows: a megabyte string costs 80 bytes.
        const std::size_t left = m_limit - std::min(m_limit, m_out.size());
        if (s.size() > left && s.size() - left > 8) {
            std::size_t cut = left + 8;
            while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80)
                --cut;
            s = s.substr(0, cut);
        }
        m_out.push_back('"');
        appendEscaped(m_out, s);
        m_out.push_back('"');
    }
    void writeBytes(const std::vector<std::uint8_t> &data)
    {
        m_out += "b'";
        for (const std::uint8_t c : data) {
            if (full())
                return;
            if (c == '\\' || c == '\'') {
                m_out.push_back('\\');
                m_out.push_back(char(c));
            } else if (c == '\n') {
                m_out += "\\n";
            } else if (c == '\r') {
                m_out += "\\r";
            } else if (c == '\t') {
                m_out += "\\t";
            } else if (c >= 0x20 && c < 0x7f) {
                m_out.push_back(char(c));
            } else {
                m_out += "\\x";
                appendHexByte(m_out, c);
            }
        }
        m_out.push_back('\'');
    }

    std::size_t m_limit;
    std::string m_out;
};

// ---------------------------------------------------------------------------------------
// Random tokens: xoshiro256** (Blackman & Vigna), one per thread, seeded once from
// std::random_device. std::mt19937_64 would do, but its 2.5 KiB state per thread and
// slower seeding buy nothing here.

class Xoshiro256
{
public:
    Xoshiro256()
    {
        std::random_device device;
        std::uint64_t seed = (std::uint64_t(device()) << 32) ^ device();
        for (auto &word : m_s) {
            // splitmix64 spreads one seed over the state (and never yields all zeros).
            seed += 0x9e3779b97f4a7c15ull;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            word = z ^ (z >> 31);
        }
    }
    std::uint64_t next()
    {
        const std::uint64_t result = std::rotl(m_s[1] * 5, 7) * 9;
        const std::uint64_t t = m_s[1] << 17;
        m_s[2] ^= m_s[0];
        m_s[3] ^= m_s[1];
        m_s[1] ^= m_s[2];
        m_s[0] ^= m_s[3];
        m_s[2] ^= t;
        m_s[3] = std::rotl(m_s[3], 45);
        return result;
    }

private:
    std::array<std::uint64_t, 4> m_s{};
};

void appendHex64(std::string &out, std::uint64_t v)
{
    for (int shift = 60; shift >= 0; shift -= 4)
        out.push_back(kHexDigits[(v >> shift) & 0xf]);
}

} // namespace

// ---------------------------------------------------------------------------------------
// Public API

std::string encodeCbor(const Value &value)
{
    std::string out;
    writeCbor(out, value);
    return out;
}

void appendCbor(std::string &out, const Value &value)
{
    writeCbor(out, value);
}

std::optional<Value> decodeCbor(std::string_view bytes, std::string *error)
{
    CborReader reader(bytes);
    Value value;
    bool ok = false;
    try {
        ok = reader.readItem(value, 0);
    } catch (const std::bad_alloc &) {
        // Honest but huge input can exhaust memory; that is an error, not a crash.
        if (error)
            *error = "out of memory decoding " + std::to_string(bytes.size()) + " bytes";
        return std::nullopt;
    }
    if (!ok) {
        if (error)
            *error = reader.error();
        return std::nullopt;
    }
    if (!reader.atEnd()) {
        if (error)
            *error = std::to_string(reader.remaining())
                     + " trailing bytes after the value at offset "
                     + std::to_string(reader.offset());
        return std::nullopt;
    }
    return value;
}

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

std::string repr(const Value &value, std::size_t maxChars)
{
    ReprWriter writer(maxChars);
    writer.write(value);
    return writer.take();
}

Value parseArgument(std::string_view text)
{
    if (std::optional<Value> v = fromJson(text))
        return std::move(*v);
    return Value(text);
}

std::string tokenize(std::string_view function, const std::vector<Value> &args)
{
    // One reused buffer per thread: pure submissions hash on the submitting thread, often
    // in a tight loop (map), and should not allocate for the encoding.
    thread_local std::string buffer;
    buffer.clear();
    writeHead(buffer, kArray, 2);
    writeHead(buffer, kTextString, function.size());
    buffer.append(function);
    writeHead(buffer, kArray, args.size());
    for (const Value &arg : args)
        writeCbor(buffer, arg);
    const QByteArray digest = QCryptographicHash::hash(
        QByteArrayView(buffer.data(), qsizetype(buffer.size())), QCryptographicHash::Md5);
    if (buffer.capacity() > (std::size_t(1) << 20))
        std::string().swap(buffer); // one huge argument must not pin its size per thread
    std::string token;
    token.reserve(32);
    for (const char c : digest)
        appendHexByte(token, static_cast<unsigned char>(c));
    return token;
}

std::string randomToken()
{
    thread_local Xoshiro256 generator;
    std::string token;
    token.reserve(32);
    appendHex64(token, generator.next());
    appendHex64(token, generator.next());
    return token;
}

} // namespace taskbench
