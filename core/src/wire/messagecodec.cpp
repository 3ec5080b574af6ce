// The worker protocol's encoder and decoder: one writer and one reader that walk the message
// layouts of wire/messages_p.h (the fields() lists), over the CBOR primitives of
// value/cbor_p.h. Nothing here names a message's keys, so adding a field is one line in
// messages_p.h.
//
// The envelope is a small CBOR subset: definite-length maps keyed by text, arrays, unsigned
// and negative integers, booleans, 64-bit floats and strings. Embedded Values are delimited
// by a bounded skip and handed to decodeCbor, which checks them fully. Batch frames write
// their item count in the fixed 4-byte form so that it can be patched once the batch is
// complete; the reader accepts any integer form.
#include "value/cbor_p.h"
#include "wire/protocol_p.h"

#include "taskbench/valuecodec.h"

#include <bit>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace taskbench::detail::proto {

namespace {

using namespace cbor;

template <class T>
inline constexpr bool kIsVector = false;
template <class T>
inline constexpr bool kIsVector<std::vector<T>> = true;

template <class T>
inline constexpr bool kDependentFalse = false;

// ---------------------------------------------------------------------------------------
// Writing

/// Counts the fields of an object that will be written (the map's head comes first).
class FieldCounter
{
public:
    template <class T>
    void field(const char *, const T &, Presence p)
    {
        m_count += p.written;
    }
    void check(bool, const char *) {}
    std::size_t count() const { return m_count; }

private:
    std::size_t m_count = 0;
};

template <class T>
void putObject(std::string &out, const T &object);

template <class T>
void put(std::string &out, const T &v)
{
    if constexpr (std::is_same_v<T, bool>) {
        writeBool(out, v);
    } else if constexpr (std::is_same_v<T, double>) {
        writeFloat64(out, v);
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
        writeUnsigned(out, v);
    } else if constexpr (std::is_integral_v<T>) {
        writeInt(out, v);
    } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
        writeText(out, v);
    } else if constexpr (std::is_same_v<T, Value>) {
        appendCbor(out, v);
    } else if constexpr (std::is_same_v<T,
                                        std::optional<Value>> || std::is_same_v<T, const Value *>) {
        appendCbor(out, *v);
    } else if constexpr (kIsVector<T>) {
        writeHead(out, kArray, v.size());
        for (const auto &item : v) {
            using Item = std::decay_t<decltype(item)>;
            if constexpr (std::is_arithmetic_v<Item> || std::is_same_v<Item, Value>)
                put(out, item);
            else
                putObject(out, item);
        }
    } else {
        static_assert(kDependentFalse<T>, "no wire form for this field type");
    }
}

class FieldWriter
{
public:
    explicit FieldWriter(std::string &out)
        : m_out(out)
    {}
    template <class T>
    void field(const char *name, const T &value, Presence p)
    {
        if (!p.written)
            return;
        writeText(m_out, name);
        put(m_out, value);
    }
    void check(bool, const char *) {}

private:
    std::string &m_out;
};

template <class T>
std::size_t fieldCount(const T &object)
{
    FieldCounter counter;
    fields(counter, object);
    return counter.count();
}

/// An item: the map of its fields.
template <class T>
void putObject(std::string &out, const T &object)
{
    writeHead(out, kMap, fieldCount(object));
    FieldWriter writer(out);
    fields(writer, object);
}

/// A message: {"type": M::kType, <fields>}.
template <class M>
void putMessage(std::string &out, const M &m)
{
    writeHead(out, kMap, 1 + fieldCount(m));
    writeText(out, "type");
    writeText(out, M::kType);
    FieldWriter writer(out);
    fields(writer, m);
}

/// Starts a frame: reserves the length prefix. Returns the frame's start offset.
std::size_t beginFrame(std::string &out)
{
    const std::size_t start = out.size();
    out.append(kFrameHeaderBytes, '\0');
    return start;
}

[[noreturn]] void throwTooLarge(std::size_t payload)
{
    throw std::length_error("protocol frame of " + std::to_string(payload)
                            + " bytes exceeds the limit of " + std::to_string(kMaxFrameBytes)
                            + " bytes");
}

/// Patches the length prefix; throws (after removing the frame) when it is too long.
void endFrame(std::string &out, std::size_t start)
{
    const std::size_t payload = out.size() - start - kFrameHeaderBytes;
    if (payload > kMaxFrameBytes) {
        out.resize(start);
        throwTooLarge(payload);
    }
    putU32(out.data() + start, std::uint32_t(payload));
}

// ---------------------------------------------------------------------------------------
// Reading

class Reader : public Cursor
{
public:
    using Cursor::Cursor;

    bool expect(unsigned wantMajor, std::uint64_t &arg, const char *what)
    {
        Head head;
        if (!readHead(head))
            return false;
        if (head.major != wantMajor) {
            rewind(head.offset);
            return fail(std::string("expected ") + what);
        }
        arg = head.arg;
        return true;
    }

    bool read(std::uint64_t &v) { return expect(kUnsigned, v, "an unsigned integer"); }

    bool read(std::uint32_t &v) // clamped: a version too large for 32 bits is still refused
    {
        std::uint64_t w = 0;
        if (!read(w))
            return false;
        v = w > UINT32_MAX ? UINT32_MAX : std::uint32_t(w);
        return true;
    }

    bool read(std::int64_t &v)
    {
        Head head;
        if (!readHead(head))
            return false;
        if (head.major == kUnsigned && head.arg <= std::uint64_t(INT64_MAX)) {
            v = std::int64_t(head.arg);
            return true;
        }
        if (head.major == kNegative && head.arg <= std::uint64_t(INT64_MAX)) {
            v = -1 - std::int64_t(head.arg);
            return true;
        }
        rewind(head.offset);
        return fail("expected a 64-bit integer");
    }

    bool read(int &v)
    {
        std::int64_t w = 0;
        const std::size_t at = offset();
        if (!read(w))
            return false;
        if (w < INT32_MIN || w > INT32_MAX) {
            rewind(at);
            return fail("integer out of range");
        }
        v = int(w);
        return true;
    }

    bool read(bool &b)
    {
        if (atEnd())
            return fail("truncated (expected a boolean)");
        if (*m_p == 0xf4 || *m_p == 0xf5) {
            b = *m_p++ == 0xf5;
            return true;
        }
        return fail("expected a boolean");
    }

    bool read(double &d)
    {
        Head head;
        if (!readHead(head))
            return false;
        if (head.major == kSimple && head.info == 27) {
            d = std::bit_cast<double>(head.arg);
            return true;
        }
        if (head.major == kSimple && head.info == 26) {
            d = double(std::bit_cast<float>(std::uint32_t(head.arg)));
            return true;
        }
        if (head.major == kUnsigned) {
            d = double(head.arg);
            return true;
        }
        if (head.major == kNegative) {
            d = -1.0 - double(head.arg);
            return true;
        }
        rewind(head.offset);
        return fail("expected a number");
    }

    /// A text or byte string (error messages and output are not guaranteed to be UTF-8).
    bool read(std::string &s)
    {
        Head head;
        if (!readHead(head))
            return false;
        if (head.major != kTextString && head.major != kByteString) {
            rewind(head.offset);
            return fail("expected a string");
        }
        std::string_view bytes;
        if (!readStringBytes(head, bytes))
            return false;
        s.assign(bytes);
        return true;
    }

    bool read(Value &v)
    {
        const std::size_t start = offset();
        if (!skipItem())
            return false;
        std::string error;
        std::optional<Value> decoded = decodeCbor(since(start), &error);
        if (!decoded) {
            rewind(start);
            return fail("bad value (" + error + ")");
        }
        v = std::move(*decoded);
        return true;
    }

    bool read(std::optional<Value> &v)
    {
        Value value;
        if (!read(value))
            return false;
        v = std::move(value);
        return true;
    }

    /// An array head whose count cannot exceed the bytes left (each item takes one at least).
    bool readArray(std::uint64_t &n)
    {
        const std::size_t at = offset();
        if (!expect(kArray, n, "an array"))
            return false;
        if (n > remaining()) {
            rewind(at);
            return fail("array of " + std::to_string(n) + " items in " + std::to_string(remaining())
                        + " bytes");
        }
        return true;
    }

    bool readMap(std::uint64_t &n)
    {
        const std::size_t at = offset();
        if (!expect(kMap, n, "a map"))
            return false;
        if (n > remaining() / 2) {
            rewind(at);
            return fail("map of " + std::to_string(n) + " entries in " + std::to_string(remaining())
                        + " bytes");
        }
        return true;
    }

    /// A map key: returned as a view into the frame.
    bool readKey(std::string_view &key)
    {
        std::uint64_t n = 0;
        const std::size_t at = offset();
        if (!expect(kTextString, n, "a text key"))
            return false;
        if (n > remaining()) {
            rewind(at);
            return fail("truncated key");
        }
        key = std::string_view(reinterpret_cast<const char *>(m_p), std::size_t(n));
        m_p += n;
        return true;
    }

    template <class Item>
    bool read(std::vector<Item> &items);
};

/// The name of an object in error messages.
template <class T>
std::string objectName()
{
    if constexpr (std::is_same_v<T, ExecuteItem>)
        return "execute item";
    else if constexpr (std::is_same_v<T, Completion>)
        return "completion";
    else if constexpr (std::is_same_v<T, FetchedItem>)
        return "fetched item";
    else
        return std::string("\"") + T::kType + "\" message";
}

/// Reads the value of the field named `key`, if the layout has one.
/// Reads the value of one key into the field of that name, looking at the fields from
/// `from` on: writers put the keys in the layout's order, so the key after field i is field
/// i + 1 (or a later one, when optional fields are left out); one name comparison per key
/// instead of one per field of the layout.
class FieldReader
{
public:
    FieldReader(Reader &r, std::string_view key, unsigned from)
        : m_r(r)
        , m_key(key)
        , m_from(from)
    {}
    template <class T>
    void field(const char *name, T &member, Presence)
    {
        const unsigned index = m_index++;
        if (m_state != State::Unmatched || index < m_from || m_key != name)
            return;
        m_state = m_r.read(member) ? State::Read : State::Failed;
        m_matched = index;
    }
    void check(bool, const char *) {}
    /// Another pass over the layout (after one that matched nothing), from field `from`.
    void lookFrom(unsigned from)
    {
        m_from = from;
        m_index = 0;
    }
    bool matched() const { return m_state != State::Unmatched; }
    bool failed() const { return m_state == State::Failed; }
    unsigned matchedIndex() const { return m_matched; }

private:
    enum class State { Unmatched, Read, Failed };
    Reader &m_r;
    std::string_view m_key;
    unsigned m_from;
    State m_state = State::Unmatched;
    unsigned m_index = 0;
    unsigned m_matched = 0;
};

/// After all keys: the first required field not seen, else the first failed check.
class FieldChecker
{
public:
    explicit FieldChecker(unsigned seen)
        : m_seen(seen)
    {}
    template <class T>
    void field(const char *name, T &, Presence p)
    {
        const unsigned bit = 1u << m_index++;
        if (p.required && !(m_seen & bit) && !m_missing)
            m_missing = name;
    }
    void check(bool ok, const char *problem)
    {
        if (!ok && !m_failedCheck)
            m_failedCheck = problem;
    }
    const char *missing() const { return m_missing; }
    const char *failedCheck() const { return m_failedCheck; }

private:
    unsigned m_seen;
    unsigned m_index = 0;
    const char *m_missing = nullptr;
    const char *m_failedCheck = nullptr;
};

/// Reads the n remaining entries of a map into object.
template <class T>
bool readFields(Reader &r, T &object, std::uint64_t n)
{
    unsigned seen = 0;
    unsigned next = 0; // the field the next key most likely names
    for (std::uint64_t i = 0; i < n; ++i) {
        std::string_view key;
        if (!r.readKey(key))
            return false;
        FieldReader reader(r, key, next);
        fields(reader, object);
        if (!reader.matched() && !reader.failed() && next > 0) {
            reader.lookFrom(0); // keys out of the usual order: all fields
            fields(reader, object);
        }
        if (reader.failed())
            return false;
        if (!reader.matched()) {
            if (!r.skipItem()) // a key of a newer peer
                return false;
            continue;
        }
        seen |= 1u << reader.matchedIndex();
        next = reader.matchedIndex() + 1;
    }
    FieldChecker checker(seen);
    fields(checker, object);
    if (checker.missing())
        return r.fail(objectName<T>() + " without its \"" + checker.missing() + "\" field");
    if (checker.failedCheck())
        return r.fail(checker.failedCheck());
    return true;
}

template <class Item>
bool Reader::read(std::vector<Item> &items)
{
    std::uint64_t n = 0;
    if (!readArray(n))
        return false;
    items.clear();
    items.reserve(std::size_t(n));
    for (std::uint64_t i = 0; i < n; ++i) {
        items.emplace_back();
        if constexpr (std::is_arithmetic_v<Item> || std::is_same_v<Item, Value>) {
            if (!read(items.back()))
                return false;
        } else {
            std::uint64_t entries = 0;
            if (!readMap(entries) || !readFields(*this, items.back(), entries))
                return false;
        }
    }
    return true;
}

/// The message whose kType is `type`, its n remaining fields read.
template <std::size_t I = 0>
std::optional<Message> readMessageAs(Reader &r, std::string_view type, std::uint64_t n)
{
    if constexpr (I == std::variant_size_v<Message>) {
        r.fail("unknown message type \"" + std::string(type.substr(0, 40)) + "\"");
        return std::nullopt;
    } else {
        using M = std::variant_alternative_t<I, Message>;
        if (type != M::kType)
            return readMessageAs<I + 1>(r, type, n);
        M m;
        if (!readFields(r, m, n))
            return std::nullopt;
        return Message(std::in_place_index<I>, std::move(m));
    }
}

std::optional<Message> readMessage(Reader &r)
{
    std::uint64_t n = 0;
    if (!r.readMap(n))
        return std::nullopt;
    if (n == 0) {
        r.fail("empty message");
        return std::nullopt;
    }
    std::string_view key;
    if (!r.readKey(key))
        return std::nullopt;
    if (key != "type") {
        r.fail("the first field is not \"type\"");
        return std::nullopt;
    }
    std::string type;
    if (!r.read(type))
        return std::nullopt;
    return readMessageAs(r, type, n - 1);
}

const char *batchType(BatchFrame::Kind kind)
{
    switch (kind) {
    case BatchFrame::Kind::Execute:
        return Execute::kType;
    case BatchFrame::Kind::Completed:
        return Completed::kType;
    case BatchFrame::Kind::Fetched:
        break;
    }
    return Fetched::kType;
}

} // namespace

// ---------------------------------------------------------------------------------------

const char *messageTypeName(const Message &m)
{
    return std::visit([](const auto &msg) { return std::decay_t<decltype(msg)>::kType; }, m);
}

void appendFrame(std::string &out, const Message &m)
{
    const std::size_t start = beginFrame(out);
    try {
        std::visit([&out](const auto &msg) { putMessage(out, msg); }, m);
    } catch (...) {
        out.resize(start);
        throw;
    }
    endFrame(out, start);
}

std::string encodeFrame(const Message &m)
{
    std::string out;
    appendFrame(out, m);
    return out;
}

std::optional<Message> decodeMessage(std::string_view payload, std::string *error)
{
    Reader r(payload);
    std::optional<Message> m = readMessage(r);
    if (m && !r.atEnd()) {
        r.fail("trailing bytes after the message");
        m.reset();
    }
    if (!m && error)
        *error = r.error().empty() ? std::string("malformed message") : r.error();
    return m;
}

std::string checkHello(const Hello &hello, std::string_view token)
{
    if (hello.version != kProtocolVersion)
        return "protocol version mismatch: the peer speaks version " + std::to_string(hello.version)
               + ", this side speaks version " + std::to_string(kProtocolVersion);
    if (!token.empty() && hello.token != token)
        return "wrong handshake token";
    return {};
}

void appendCompletionItem(std::string &out, const Completion &c)
{
    putObject(out, c);
}

std::string batchFrameHeader(BatchFrame::Kind kind, std::uint32_t count, std::size_t itemBytes)
{
    std::string out;
    BatchFrame frame(out, kind);
    const std::size_t payload = out.size() - kFrameHeaderBytes + itemBytes;
    if (payload > kMaxFrameBytes)
        throwTooLarge(payload);
    putU32(out.data() + out.size() - 4, count);
    putU32(out.data(), std::uint32_t(payload));
    return out;
}

std::size_t cborSizeBound(const Value &v, std::size_t limit)
{
    return sizeBound(v, limit);
}

// ---------------------------------------------------------------------------------------
// BatchFrame

BatchFrame::BatchFrame(std::string &out, Kind kind)
    : m_out(out)
    , m_start(beginFrame(out))
{
    // {"type": ..., "items": [<count patched by finish()>]}: the layout of Execute,
    // Completed and Fetched (one field each), with the count in the fixed 4-byte form.
    writeHead(out, kMap, 2);
    writeText(out, "type");
    writeText(out, batchType(kind));
    writeText(out, "items");
    m_countPos = writeHeadFixed32(out, kArray);
}

void BatchFrame::add(const Assignment &a)
{
    putObject(
        m_out,
        ExecuteRef{a.task,
                   a.attempt,
                   a.function ? std::string_view(a.function->qualifiedName) : std::string_view(),
                   a.key,
                   a.args,
                   a.cancel && a.cancel->load(std::memory_order_relaxed)});
    ++m_count;
}

void BatchFrame::add(const ExecuteItem &item)
{
    putObject(m_out, item);
    ++m_count;
}

void BatchFrame::add(const Completion &c)
{
    putObject(m_out, c);
    ++m_count;
}

void BatchFrame::add(const FetchedItem &item)
{
    putObject(m_out, item);
    ++m_count;
}

void BatchFrame::addFetched(std::uint64_t task, const Value &value)
{
    putObject(m_out, FetchedRef{task, &value, {}});
    ++m_count;
}

void BatchFrame::addEncoded(std::string_view item)
{
    m_out.append(item);
    ++m_count;
}

void BatchFrame::rollback(std::size_t mark, std::uint32_t countAtMark)
{
    m_out.resize(m_start + mark);
    m_count = countAtMark;
}

bool BatchFrame::finish()
{
    if (m_done)
        return m_count > 0;
    m_done = true;
    if (m_count == 0) {
        m_out.resize(m_start);
        return false;
    }
    putU32(m_out.data() + m_countPos, m_count);
    endFrame(m_out, m_start);
    return true;
}

} // namespace taskbench::detail::proto
