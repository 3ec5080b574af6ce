// The CBOR primitives (RFC 8949), the one implementation under both the Value codec
// (value/cbor.cpp) and the worker protocol's envelope (wire/messagecodec.cpp): item heads
// written in their shortest form (or a fixed 4-byte form to patch later), integers, booleans,
// 64-bit floats and text, and a Cursor that reads heads and skips items without trusting its
// input (every length is checked against the bytes that remain, nesting is bounded, a failure
// is a message with the offset, never a crash).
//
// Hand-written rather than QCborStreamWriter/QCborStreamReader: these sit on the hot path
// (hundreds of thousands of small items per second), where going through QCborValue/QString
// would allocate and convert twice per item. The writers are inline for the same reason.
#pragma once

#include "taskbench/value.h"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace taskbench::detail::cbor {

enum Major : unsigned {
    kUnsigned = 0,
    kNegative = 1,
    kByteString = 2,
    kTextString = 3,
    kArray = 4,
    kMap = 5,
    kTag = 6,
    kSimple = 7, ///< simple values (false, true, null) and floats
};

inline constexpr char kFalse = char(0xf4);
inline constexpr char kTrue = char(0xf5);
inline constexpr char kNull = char(0xf6);

/// "unsigned integer", "text string", ... (for error messages).
const char *majorName(unsigned major);

// ---------------------------------------------------------------------------------------
// Writing

/// The head of an item in its shortest form.
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

/// Bytes writeHead() takes for n.
inline std::size_t headSize(std::uint64_t n)
{
    return n < 24 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : n <= 0xffffffffu ? 5 : 9;
}

/// Big-endian 32 bits at p (a fixed-form head argument, a frame length).
inline void putU32(char *p, std::uint32_t v)
{
    p[0] = char(v >> 24);
    p[1] = char(v >> 16);
    p[2] = char(v >> 8);
    p[3] = char(v);
}

/// A head whose argument takes the fixed 4-byte form, to be patched with putU32() once it is
/// known. Returns the offset of those 4 bytes in out.
inline std::size_t writeHeadFixed32(std::string &out, unsigned major)
{
    out.push_back(char((major << 5) | 26));
    const std::size_t at = out.size();
    out.append(4, '\0');
    return at;
}

inline void writeText(std::string &out, std::string_view s)
{
    writeHead(out, kTextString, s.size());
    out.append(s);
}

inline void writeUnsigned(std::string &out, std::uint64_t v)
{
    writeHead(out, kUnsigned, v);
}

inline void writeInt(std::string &out, std::int64_t v)
{
    if (v >= 0)
        writeHead(out, kUnsigned, std::uint64_t(v));
    else
        writeHead(out, kNegative, ~std::uint64_t(v)); // -1 - v, without overflow
}

inline void writeBool(std::string &out, bool b)
{
    out.push_back(b ? kTrue : kFalse);
}

/// A double in the 9-byte form whatever its value (Values use the shortest exact form).
inline void writeFloat64(std::string &out, double d)
{
    const auto bits = std::bit_cast<std::uint64_t>(d);
    char buf[9] = {char(0xfb)};
    for (int i = 0; i < 8; ++i)
        buf[1 + i] = char(bits >> (8 * (7 - i)));
    out.append(buf, 9);
}

/// An upper bound of the CBOR size of v; stops counting (and returns a value > limit) as soon
/// as the bound passes limit. Cheap: no encoding, no allocation.
std::size_t sizeBound(const Value &v, std::size_t limit = SIZE_MAX);

// ---------------------------------------------------------------------------------------
// Reading

struct Head
{
    unsigned major = 0;
    unsigned info = 0; ///< the low 5 bits of the initial byte
    std::uint64_t arg = 0;
    std::size_t offset = 0; ///< of the initial byte
};

/// A position in untrusted bytes. Failures keep the first message ("... at offset N").
class Cursor
{
public:
    explicit Cursor(std::string_view bytes)
        : m_begin(reinterpret_cast<const unsigned char *>(bytes.data()))
        , m_p(m_begin)
        , m_end(m_begin + bytes.size())
    {}

    bool atEnd() const { return m_p == m_end; }
    std::size_t offset() const { return std::size_t(m_p - m_begin); }
    std::size_t remaining() const { return std::size_t(m_end - m_p); }
    const std::string &error() const { return m_error; }

    /// Records "message at offset <at>" unless an earlier failure was recorded. Returns false.
    bool fail(std::size_t at, const std::string &message);
    bool fail(const std::string &message) { return fail(offset(), message); }

    /// Reads a definite-length head (indefinite lengths and reserved forms are errors). On
    /// failure nothing is consumed.
    bool readHead(Head &head)
    {
        head.offset = offset();
        if (m_p == m_end)
            return failHead(head, 0);
        const unsigned char initial = *m_p;
        head.major = initial >> 5;
        head.info = initial & 0x1f;
        if (head.info < 24) {
            head.arg = head.info;
            ++m_p;
            return true;
        }
        if (head.info > 27)
            return failHead(head, initial);
        const std::size_t len = std::size_t(1) << (head.info - 24);
        if (remaining() - 1 < len)
            return failHead(head, initial);
        std::uint64_t arg = 0;
        for (std::size_t i = 1; i <= len; ++i)
            arg = (arg << 8) | m_p[i];
        m_p += 1 + len;
        head.arg = arg;
        return true;
    }

    /// The bytes of a string whose head was just read (checked against what remains).
    bool readStringBytes(const Head &head, std::string_view &bytes);

    /// Skips one whole item (nesting bounded by kMaxDecodeDepth).
    bool skipItem(int depth = 0);

    /// The bytes from offset `from` to here.
    std::string_view since(std::size_t from) const
    {
        return std::string_view(reinterpret_cast<const char *>(m_begin + from), offset() - from);
    }
    /// Moves back to an earlier offset (to report an error at the start of an item).
    void rewind(std::size_t to) { m_p = m_begin + to; }

protected:
    bool failHead(const Head &head, unsigned char initial);

    const unsigned char *m_begin;
    const unsigned char *m_p;
    const unsigned char *m_end;
    std::string m_error;
};

} // namespace taskbench::detail::cbor
