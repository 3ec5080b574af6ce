// Values in canonical CBOR (see value/cbor_p.h for the primitives): shortest integer and float
// forms, map keys sorted (std::map order), definite lengths, future references as tag 40001.
// This is the format of every value on the worker protocol and the input of pure-task tokens;
// it also holds the Cursor's out-of-line parts and the size bound the protocol uses to decide
// whether a result travels inline.
//
// The decoder treats its input as hostile: every length is checked against the bytes that
// remain before anything is allocated, nesting is bounded by kMaxDecodeDepth, and a failure
// is a message with the offset, never a crash.
#include "value/cbor_p.h"

#include "taskbench/valuecodec.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <new>
#include <optional>

namespace taskbench {

namespace detail::cbor {

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

bool Cursor::fail(std::size_t at, const std::string &message)
{
    if (m_error.empty())
        m_error = message + " at offset " + std::to_string(at);
    return false;
}

bool Cursor::failHead(const Head &head, unsigned char initial)
{
    if (m_p == m_end)
        return fail(head.offset, "truncated input: expected a data item");
    if (head.info <= 27)
        return fail(head.offset,
                    "truncated input: " + std::string(majorName(head.major)) + " header needs "
                        + std::to_string(std::size_t(1) << (head.info - 24)) + " more bytes");
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

bool Cursor::readStringBytes(const Head &head, std::string_view &bytes)
{
    if (head.arg > remaining())
        return fail(head.offset,
                    std::string(majorName(head.major)) + " of " + std::to_string(head.arg)
                        + " bytes exceeds the " + std::to_string(remaining()) + " bytes left");
    bytes = std::string_view(reinterpret_cast<const char *>(m_p), std::size_t(head.arg));
    m_p += head.arg;
    return true;
}

bool Cursor::skipItem(int depth)
{
    if (depth > kMaxDecodeDepth)
        return fail("nesting deeper than " + std::to_string(kMaxDecodeDepth) + " levels");
    Head head;
    if (!readHead(head))
        return false;
    switch (head.major) {
    case kUnsigned:
    case kNegative:
        return true;
    case kByteString:
    case kTextString: {
        std::string_view bytes;
        return readStringBytes(head, bytes);
    }
    case kArray:
        if (head.arg > remaining())
            return fail(head.offset,
                        "array of " + std::to_string(head.arg) + " items exceeds the "
                            + std::to_string(remaining()) + " bytes left");
        for (std::uint64_t i = 0; i < head.arg; ++i)
            if (!skipItem(depth + 1))
                return false;
        return true;
    case kMap:
        if (head.arg > remaining() / 2)
            return fail(head.offset,
                        "map of " + std::to_string(head.arg) + " entries exceeds the "
                            + std::to_string(remaining()) + " bytes left");
        for (std::uint64_t i = 0; i < 2 * head.arg; ++i)
            if (!skipItem(depth + 1))
                return false;
        return true;
    case kTag:
        return skipItem(depth + 1);
    default: // simple values and floats, whose bytes readHead() consumed
        return true;
    }
}

namespace {

void boundAdd(std::size_t &acc, const Value &v, std::size_t limit)
{
    if (acc > limit)
        return;
    switch (v.type()) {
    case Value::Type::Null:
    case Value::Type::Bool:
        acc += 1;
        return;
    case Value::Type::Int: {
        const std::int64_t i = v.toInt();
        acc += headSize(i >= 0 ? std::uint64_t(i) : ~std::uint64_t(i));
        return;
    }
    case Value::Type::Double:
        acc += 9;
        return;
    case Value::Type::String:
        acc += headSize(v.toString().size()) + v.toString().size();
        return;
    case Value::Type::Bytes:
        acc += headSize(v.toBytes().data.size()) + v.toBytes().data.size();
        return;
    case Value::Type::List:
        acc += headSize(v.toList().size());
        for (const Value &item : v.toList()) {
            boundAdd(acc, item, limit);
            if (acc > limit)
                return;
        }
        return;
    case Value::Type::Map:
        acc += headSize(v.toMap().size());
        for (const auto &[k, item] : v.toMap()) {
            acc += headSize(k.size()) + k.size();
            boundAdd(acc, item, limit);
            if (acc > limit)
                return;
        }
        return;
    case Value::Type::Ref:
        acc += headSize(kFutureRefCborTag) + headSize(v.toRef().key.size()) + v.toRef().key.size();
        return;
    }
}

} // namespace

std::size_t sizeBound(const Value &v, std::size_t limit)
{
    std::size_t acc = 0;
    boundAdd(acc, v, limit);
    return acc;
}

} // namespace detail::cbor

namespace {

using namespace detail::cbor;

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
    writeFloat64(out, d);
}

void writeCbor(std::string &out, const Value &v)
{
    switch (v.type()) {
    case Value::Type::Null:
        out.push_back(kNull);
        return;
    case Value::Type::Bool:
        writeBool(out, v.toBool());
        return;
    case Value::Type::Int:
        writeInt(out, v.toInt());
        return;
    case Value::Type::Double:
        writeDouble(out, v.toDouble());
        return;
    case Value::Type::String:
        writeText(out, v.toString());
        return;
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
        writeHead(out, kMap, map.size());
        for (const auto &[key, item] : map) {
            writeText(out, key);
            writeCbor(out, item);
        }
        return;
    }
    case Value::Type::Ref:
        writeHead(out, kTag, kFutureRefCborTag);
        writeText(out, v.toRef().key);
        return;
    }
}

class CborReader : public Cursor
{
public:
    explicit CborReader(std::string_view bytes)
        : Cursor(bytes)
        , m_reserveBudget(bytes.size())
    {}

    bool readItem(Value &out, int depth);

private:
    bool readText(const Head &head, std::string &out)
    {
        std::string_view bytes;
        if (!readStringBytes(head, bytes))
            return false;
        out.assign(bytes);
        return true;
    }

    std::size_t m_reserveBudget; ///< array items still allowed to be reserved up front
};

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
        std::string_view data;
        if (!readStringBytes(head, data))
            return false;
        Bytes bytes;
        bytes.data.assign(data.begin(), data.end());
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
    case kMap: {
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

} // namespace

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

} // namespace taskbench
