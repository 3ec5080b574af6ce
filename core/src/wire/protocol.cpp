// The worker protocol's encoder, decoder and frame reader (see protocol_p.h for the format).
//
// The envelope is a small hand-written CBOR subset: definite-length maps keyed by text,
// arrays, unsigned and negative integers, booleans, 64-bit floats and strings. Embedded
// Values are delimited by a bounded skip and handed to decodeCbor, which checks them fully.
// Batch frames write their item count in the fixed 4-byte form so that it can be patched
// once the batch is complete; the reader accepts any integer form.
#include "wire/protocol_p.h"

#include "taskbench/valuecodec.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <unistd.h>

namespace taskbench::detail::proto {

namespace {

// ---------------------------------------------------------------------------------------
// Writing

enum Major : unsigned { UInt = 0, NegInt = 1, ByteStr = 2, TextStr = 3, Array = 4, Map = 5 };

void putHead(std::string &out, unsigned major, std::uint64_t n)
{
    const char m = char(major << 5);
    if (n < 24) {
        out.push_back(char(m | char(n)));
    } else if (n <= 0xff) {
        const char b[2] = {char(m | 24), char(n)};
        out.append(b, 2);
    } else if (n <= 0xffff) {
        const char b[3] = {char(m | 25), char(n >> 8), char(n)};
        out.append(b, 3);
    } else if (n <= 0xffffffffu) {
        const char b[5] = {char(m | 26), char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
        out.append(b, 5);
    } else {
        char b[9];
        b[0] = char(m | 27);
        for (int i = 0; i < 8; ++i)
            b[1 + i] = char(n >> (56 - 8 * i));
        out.append(b, 9);
    }
}

void putText(std::string &out, std::string_view s)
{
    putHead(out, TextStr, s.size());
    out.append(s);
}

void putUInt(std::string &out, std::uint64_t v)
{
    putHead(out, UInt, v);
}

void putInt(std::string &out, std::int64_t v)
{
    if (v >= 0)
        putHead(out, UInt, std::uint64_t(v));
    else
        putHead(out, NegInt, std::uint64_t(-1 - v));
}

void putBool(std::string &out, bool b)
{
    out.push_back(char(b ? 0xf5 : 0xf4));
}

void putDouble(std::string &out, double d)
{
    const auto bits = std::bit_cast<std::uint64_t>(d);
    char b[9];
    b[0] = char(0xfb);
    for (int i = 0; i < 8; ++i)
        b[1 + i] = char(bits >> (56 - 8 * i));
    out.append(b, 9);
}

void putU32Fixed(char *p, std::uint32_t v)
{
    p[0] = char(v >> 24);
    p[1] = char(v >> 16);
    p[2] = char(v >> 8);
    p[3] = char(v);
}

/// Starts a frame: reserves the length prefix. Returns the frame's start offset.
std::size_t beginFrame(std::string &out)
{
    const std::size_t start = out.size();
    out.append(kFrameHeaderBytes, '\0');
    return start;
}

/// Patches the length prefix; throws (after removing the frame) when it is too long.
void endFrame(std::string &out, std::size_t start)
{
    const std::size_t payload = out.size() - start - kFrameHeaderBytes;
    if (payload > kMaxFrameBytes) {
        out.resize(start);
        throw std::length_error("protocol frame of " + std::to_string(payload)
                                + " bytes exceeds the limit of " + std::to_string(kMaxFrameBytes)
                                + " bytes");
    }
    putU32Fixed(out.data() + start, std::uint32_t(payload));
}

void putType(std::string &out, std::size_t fields, const char *type)
{
    putHead(out, Map, fields);
    putText(out, "type");
    putText(out, type);
}

void putIdArray(std::string &out, const std::vector<std::uint64_t> &ids)
{
    putHead(out, Array, ids.size());
    for (std::uint64_t id : ids)
        putUInt(out, id);
}

void putExecuteItem(std::string &out,
                    std::uint64_t task,
                    int attempt,
                    std::string_view function,
                    std::string_view key,
                    const std::vector<Value> &args,
                    bool cancelled)
{
    putHead(out, Map, cancelled ? 6 : 5);
    putText(out, "task");
    putUInt(out, task);
    putText(out, "attempt");
    putInt(out, attempt);
    putText(out, "function");
    putText(out, function);
    putText(out, "key");
    putText(out, key);
    putText(out, "args");
    putHead(out, Array, args.size());
    for (const Value &v : args)
        appendCbor(out, v);
    if (cancelled) {
        putText(out, "cancelled");
        putBool(out, true);
    }
}

void putFetchedItem(std::string &out, const FetchedItem &item)
{
    putHead(out, Map, 2);
    putText(out, "task");
    putUInt(out, item.task);
    if (item.value) {
        putText(out, "value");
        appendCbor(out, *item.value);
    } else {
        putText(out, "error");
        putText(out, item.error);
    }
}

void putMessage(std::string &out, const Message &m)
{
    std::visit(
        [&out](const auto &msg) {
            using T = std::decay_t<decltype(msg)>;
            if constexpr (std::is_same_v<T, Hello>) {
                putType(out, msg.token.empty() ? 5 : 6, "hello");
                putText(out, "version");
                putUInt(out, msg.version);
                putText(out, "pid");
                putInt(out, msg.pid);
                putText(out, "worker");
                putInt(out, msg.worker);
                putText(out, "threads");
                putInt(out, msg.threads);
                if (!msg.token.empty()) {
                    putText(out, "token");
                    putText(out, msg.token);
                }
            } else if constexpr (std::is_same_v<T, Execute>) {
                putType(out, 2, "execute");
                putText(out, "items");
                putHead(out, Array, msg.items.size());
                for (const ExecuteItem &i : msg.items)
                    putExecuteItem(out, i.task, i.attempt, i.function, i.key, i.args, i.cancelled);
            } else if constexpr (std::is_same_v<T, Completed>) {
                putType(out, 2, "completed");
                putText(out, "items");
                putHead(out, Array, msg.items.size());
                for (const Completion &c : msg.items)
                    appendCompletionItem(out, c);
            } else if constexpr (std::is_same_v<T, LogLine>) {
                putType(out, 3, "log");
                putText(out, "task");
                putUInt(out, msg.task);
                putText(out, "line");
                putText(out, msg.line);
            } else if constexpr (std::is_same_v<T, Progress>) {
                putType(out, 4, "progress");
                putText(out, "task");
                putUInt(out, msg.task);
                putText(out, "fraction");
                putDouble(out, msg.fraction);
                putText(out, "text");
                putText(out, msg.text);
            } else if constexpr (std::is_same_v<T, Fetch>) {
                putType(out, 2, "fetch");
                putText(out, "tasks");
                putIdArray(out, msg.tasks);
            } else if constexpr (std::is_same_v<T, Fetched>) {
                putType(out, 2, "fetched");
                putText(out, "items");
                putHead(out, Array, msg.items.size());
                for (const FetchedItem &i : msg.items)
                    putFetchedItem(out, i);
            } else if constexpr (std::is_same_v<T, Store>) {
                putType(out, 3, "store");
                putText(out, "task");
                putUInt(out, msg.task);
                putText(out, "value");
                appendCbor(out, msg.value);
            } else if constexpr (std::is_same_v<T, Release>) {
                putType(out, 2, "release");
                putText(out, "tasks");
                putIdArray(out, msg.tasks);
            } else if constexpr (std::is_same_v<T, Cancel>) {
                putType(out, 2, "cancel");
                putText(out, "task");
                putUInt(out, msg.task);
            } else if constexpr (std::is_same_v<T, Drain>) {
                putType(out, 1, "drain");
            } else if constexpr (std::is_same_v<T, Drained>) {
                putType(out, 2, "drained");
                putText(out, "tasks");
                putIdArray(out, msg.tasks);
            } else if constexpr (std::is_same_v<T, Shutdown>) {
                putType(out, 1, "shutdown");
            }
        },
        m);
}

// ---------------------------------------------------------------------------------------
// Reading

class Reader
{
public:
    explicit Reader(std::string_view bytes)
        : m_begin(reinterpret_cast<const std::uint8_t *>(bytes.data()))
        , m_p(m_begin)
        , m_end(m_begin + bytes.size())
    {}

    bool atEnd() const { return m_p == m_end; }
    std::size_t remaining() const { return std::size_t(m_end - m_p); }
    const std::string &error() const { return m_error; }

    bool fail(const std::string &what)
    {
        if (m_error.empty())
            m_error = what + " at offset " + std::to_string(m_p - m_begin);
        return false;
    }

    /// Reads an initial byte and its argument. Indefinite lengths are refused: neither side
    /// writes them.
    bool head(unsigned &major, std::uint64_t &arg, unsigned &info)
    {
        if (m_p == m_end)
            return fail("truncated (expected an item)");
        const std::uint8_t ib = *m_p++;
        major = ib >> 5;
        info = ib & 0x1f;
        if (info < 24) {
            arg = info;
            return true;
        }
        std::size_t n = 0;
        switch (info) {
        case 24:
            n = 1;
            break;
        case 25:
            n = 2;
            break;
        case 26:
            n = 4;
            break;
        case 27:
            n = 8;
            break;
        case 31:
            --m_p;
            return fail("indefinite-length item");
        default:
            --m_p;
            return fail("reserved additional information " + std::to_string(info));
        }
        if (remaining() < n) {
            --m_p;
            return fail("truncated (item head)");
        }
        arg = 0;
        for (std::size_t i = 0; i < n; ++i)
            arg = (arg << 8) | m_p[i];
        m_p += n;
        return true;
    }

    bool expect(unsigned wantMajor, std::uint64_t &arg, const char *what)
    {
        unsigned major = 0, info = 0;
        const std::uint8_t *at = m_p;
        if (!head(major, arg, info))
            return false;
        if (major != wantMajor) {
            m_p = at;
            return fail(std::string("expected ") + what);
        }
        return true;
    }

    bool readUInt(std::uint64_t &v) { return expect(UInt, v, "an unsigned integer"); }

    bool readInt(std::int64_t &v)
    {
        unsigned major = 0, info = 0;
        std::uint64_t arg = 0;
        const std::uint8_t *at = m_p;
        if (!head(major, arg, info))
            return false;
        if (major == UInt && arg <= std::uint64_t(INT64_MAX)) {
            v = std::int64_t(arg);
            return true;
        }
        if (major == NegInt && arg <= std::uint64_t(INT64_MAX)) {
            v = -1 - std::int64_t(arg);
            return true;
        }
        m_p = at;
        return fail("expected a 64-bit integer");
    }

    bool readInt32(int &v)
    {
        std::int64_t w = 0;
        const std::uint8_t *at = m_p;
        if (!readInt(w))
            return false;
        if (w < INT32_MIN || w > INT32_MAX) {
            m_p = at;
            return fail("integer out of range");
        }
        v = int(w);
        return true;
    }

    bool readBool(bool &b)
    {
        if (m_p == m_end)
            return fail("truncated (expected a boolean)");
        if (*m_p == 0xf4 || *m_p == 0xf5) {
            b = *m_p++ == 0xf5;
            return true;
        }
        return fail("expected a boolean");
    }

    bool readDouble(double &d)
    {
        unsigned major = 0, info = 0;
        std::uint64_t arg = 0;
        const std::uint8_t *at = m_p;
        if (!head(major, arg, info))
            return false;
        if (major == 7 && info == 27) {
            d = std::bit_cast<double>(arg);
            return true;
        }
        if (major == 7 && info == 26) {
            d = double(std::bit_cast<float>(std::uint32_t(arg)));
            return true;
        }
        if (major == UInt) {
            d = double(arg);
            return true;
        }
        if (major == NegInt) {
            d = -1.0 - double(arg);
            return true;
        }
        m_p = at;
        return fail("expected a number");
    }

    /// A text or byte string (error messages and output are not guaranteed to be UTF-8).
    bool readString(std::string &s)
    {
        unsigned major = 0, info = 0;
        std::uint64_t n = 0;
        const std::uint8_t *at = m_p;
        if (!head(major, n, info))
            return false;
        if (major != TextStr && major != ByteStr) {
            m_p = at;
            return fail("expected a string");
        }
        if (n > remaining()) {
            m_p = at;
            return fail("truncated string (length " + std::to_string(n) + ")");
        }
        s.assign(reinterpret_cast<const char *>(m_p), std::size_t(n));
        m_p += n;
        return true;
    }

    /// An array head whose count cannot exceed the bytes left (each item takes one at least).
    bool readArray(std::uint64_t &n)
    {
        const std::uint8_t *at = m_p;
        if (!expect(Array, n, "an array"))
            return false;
        if (n > remaining()) {
            m_p = at;
            return fail("array of " + std::to_string(n) + " items in " + std::to_string(remaining())
                        + " bytes");
        }
        return true;
    }

    bool readMap(std::uint64_t &n)
    {
        const std::uint8_t *at = m_p;
        if (!expect(Map, n, "a map"))
            return false;
        if (n > remaining() / 2) {
            m_p = at;
            return fail("map of " + std::to_string(n) + " entries in " + std::to_string(remaining())
                        + " bytes");
        }
        return true;
    }

    /// A map key: returned as a view into the frame.
    bool readKey(std::string_view &key)
    {
        std::uint64_t n = 0;
        const std::uint8_t *at = m_p;
        if (!expect(TextStr, n, "a text key"))
            return false;
        if (n > remaining()) {
            m_p = at;
            return fail("truncated key");
        }
        key = std::string_view(reinterpret_cast<const char *>(m_p), std::size_t(n));
        m_p += n;
        return true;
    }

    bool skip(int depth = 0)
    {
        if (depth > kMaxDecodeDepth)
            return fail("nesting deeper than " + std::to_string(kMaxDecodeDepth));
        unsigned major = 0, info = 0;
        std::uint64_t arg = 0;
        if (!head(major, arg, info))
            return false;
        switch (major) {
        case UInt:
        case NegInt:
            return true;
        case ByteStr:
        case TextStr:
            if (arg > remaining())
                return fail("truncated string");
            m_p += arg;
            return true;
        case Array:
            if (arg > remaining())
                return fail("truncated array");
            for (std::uint64_t i = 0; i < arg; ++i)
                if (!skip(depth + 1))
                    return false;
            return true;
        case Map:
            if (arg > remaining() / 2)
                return fail("truncated map");
            for (std::uint64_t i = 0; i < 2 * arg; ++i)
                if (!skip(depth + 1))
                    return false;
            return true;
        case 6: // tag
            return skip(depth + 1);
        default: // 7: simple values and floats, whose bytes head() consumed
            return true;
        }
    }

    bool readValue(Value &v)
    {
        const std::uint8_t *start = m_p;
        if (!skip())
            return false;
        std::string error;
        std::optional<Value> decoded = decodeCbor(
            std::string_view(reinterpret_cast<const char *>(start), std::size_t(m_p - start)),
            &error);
        if (!decoded) {
            m_p = start;
            return fail("bad value (" + error + ")");
        }
        v = std::move(*decoded);
        return true;
    }

    bool readIdArray(std::vector<std::uint64_t> &ids)
    {
        std::uint64_t n = 0;
        if (!readArray(n))
            return false;
        ids.clear();
        ids.reserve(std::size_t(n));
        for (std::uint64_t i = 0; i < n; ++i) {
            std::uint64_t id = 0;
            if (!readUInt(id))
                return false;
            ids.push_back(id);
        }
        return true;
    }

    /// Reads the fields of a map (after its head): calls field(key) for each; field returns
    /// false on error, or leaves unknown keys to skip().
    template <class F>
    bool fields(std::uint64_t n, F &&field)
    {
        for (std::uint64_t i = 0; i < n; ++i) {
            std::string_view key;
            if (!readKey(key))
                return false;
            int r = field(key);
            if (r < 0)
                return false;
            if (r == 0 && !skip())
                return false;
        }
        return true;
    }

private:
    const std::uint8_t *m_begin;
    const std::uint8_t *m_p;
    const std::uint8_t *m_end;
    std::string m_error;
};

/// field callbacks return 1: read, 0: unknown (skip it), -1: error.
inline int ok(bool b)
{
    return b ? 1 : -1;
}

bool readExecuteItem(Reader &r, ExecuteItem &item)
{
    std::uint64_t n = 0;
    if (!r.readMap(n))
        return false;
    bool hasTask = false;
    const bool good = r.fields(n, [&](std::string_view k) {
        if (k == "task") {
            hasTask = true;
            return ok(r.readUInt(item.task));
        }
        if (k == "attempt")
            return ok(r.readInt32(item.attempt));
        if (k == "function")
            return ok(r.readString(item.function));
        if (k == "key")
            return ok(r.readString(item.key));
        if (k == "cancelled")
            return ok(r.readBool(item.cancelled));
        if (k == "args") {
            std::uint64_t count = 0;
            if (!r.readArray(count))
                return -1;
            item.args.clear();
            item.args.reserve(std::size_t(count));
            for (std::uint64_t i = 0; i < count; ++i) {
                item.args.emplace_back();
                if (!r.readValue(item.args.back()))
                    return -1;
            }
            return 1;
        }
        return 0;
    });
    if (good && !hasTask)
        return r.fail("execute item without a task id");
    return good;
}

bool readCompletion(Reader &r, Completion &c)
{
    std::uint64_t n = 0;
    if (!r.readMap(n))
        return false;
    bool hasTask = false;
    const bool good = r.fields(n, [&](std::string_view k) {
        if (k == "task") {
            hasTask = true;
            return ok(r.readUInt(c.task));
        }
        if (k == "attempt")
            return ok(r.readInt32(c.attempt));
        if (k == "ok")
            return ok(r.readBool(c.ok));
        if (k == "started")
            return ok(r.readBool(c.started));
        if (k == "result")
            return ok(r.readValue(c.result));
        if (k == "remote")
            return ok(r.readBool(c.remote));
        if (k == "typeName")
            return ok(r.readString(c.typeName));
        if (k == "bytes")
            return ok(r.readUInt(c.bytes));
        if (k == "errorType")
            return ok(r.readString(c.errorType));
        if (k == "errorMessage")
            return ok(r.readString(c.errorMessage));
        if (k == "output")
            return ok(r.readString(c.output));
        if (k == "thread")
            return ok(r.readInt32(c.thread));
        if (k == "startUs")
            return ok(r.readInt(c.startUs));
        if (k == "endUs")
            return ok(r.readInt(c.endUs));
        return 0;
    });
    if (good && !hasTask)
        return r.fail("completion without a task id");
    return good;
}

bool readFetchedItem(Reader &r, FetchedItem &item)
{
    std::uint64_t n = 0;
    if (!r.readMap(n))
        return false;
    bool hasTask = false;
    const bool good = r.fields(n, [&](std::string_view k) {
        if (k == "task") {
            hasTask = true;
            return ok(r.readUInt(item.task));
        }
        if (k == "value") {
            Value v;
            if (!r.readValue(v))
                return -1;
            item.value = std::move(v);
            return 1;
        }
        if (k == "error")
            return ok(r.readString(item.error));
        return 0;
    });
    if (!good)
        return false;
    if (!hasTask)
        return r.fail("fetched item without a task id");
    if (!item.value && item.error.empty())
        return r.fail("fetched item with neither value nor error");
    return true;
}

template <class Item, class ReadItem>
bool readItems(Reader &r, std::vector<Item> &items, ReadItem readItem)
{
    std::uint64_t n = 0;
    if (!r.readArray(n))
        return false;
    items.clear();
    items.reserve(std::size_t(n));
    for (std::uint64_t i = 0; i < n; ++i) {
        items.emplace_back();
        if (!readItem(r, items.back()))
            return false;
    }
    return true;
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
    if (!r.readString(type))
        return std::nullopt;
    --n;

    // Each branch reads the remaining fields; `required` counts the mandatory ones seen.
    auto finish = [&](bool good, Message m, bool haveRequired) -> std::optional<Message> {
        if (!good)
            return std::nullopt;
        if (!haveRequired) {
            r.fail("\"" + type + "\" message without a required field");
            return std::nullopt;
        }
        return m;
    };

    if (type == "hello") {
        Hello h;
        h.version = 0;
        bool hasVersion = false;
        const bool good = r.fields(n, [&](std::string_view k) {
            if (k == "version") {
                std::uint64_t v = 0;
                if (!r.readUInt(v))
                    return -1;
                h.version = v > UINT32_MAX ? UINT32_MAX : std::uint32_t(v);
                hasVersion = true;
                return 1;
            }
            if (k == "pid")
                return ok(r.readInt(h.pid));
            if (k == "worker")
                return ok(r.readInt32(h.worker));
            if (k == "threads")
                return ok(r.readInt32(h.threads));
            if (k == "token")
                return ok(r.readString(h.token));
            return 0;
        });
        return finish(good, std::move(h), hasVersion);
    }
    if (type == "execute" || type == "completed" || type == "fetched") {
        Execute ex;
        Completed co;
        Fetched fe;
        bool hasItems = false;
        const bool good = r.fields(n, [&](std::string_view k) {
            if (k != "items")
                return 0;
            hasItems = true;
            if (type == "execute")
                return ok(readItems(r, ex.items, readExecuteItem));
            if (type == "completed")
                return ok(readItems(r, co.items, readCompletion));
            return ok(readItems(r, fe.items, readFetchedItem));
        });
        if (type == "execute")
            return finish(good, std::move(ex), hasItems);
        if (type == "completed")
            return finish(good, std::move(co), hasItems);
        return finish(good, std::move(fe), hasItems);
    }
    if (type == "log") {
        LogLine m;
        bool hasTask = false;
        const bool good = r.fields(n, [&](std::string_view k) {
            if (k == "task") {
                hasTask = true;
                return ok(r.readUInt(m.task));
            }
            if (k == "line")
                return ok(r.readString(m.line));
            return 0;
        });
        return finish(good, std::move(m), hasTask);
    }
    if (type == "progress") {
        Progress m;
        bool hasTask = false;
        const bool good = r.fields(n, [&](std::string_view k) {
            if (k == "task") {
                hasTask = true;
                return ok(r.readUInt(m.task));
            }
            if (k == "fraction")
                return ok(r.readDouble(m.fraction));
            if (k == "text")
                return ok(r.readString(m.text));
            return 0;
        });
        return finish(good, std::move(m), hasTask);
    }
    if (type == "fetch" || type == "release" || type == "drained") {
        std::vector<std::uint64_t> ids;
        bool hasTasks = false;
        const bool good = r.fields(n, [&](std::string_view k) {
            if (k != "tasks")
                return 0;
            hasTasks = true;
            return ok(r.readIdArray(ids));
        });
        if (type == "fetch")
            return finish(good, Fetch{std::move(ids)}, hasTasks);
        if (type == "release")
            return finish(good, Release{std::move(ids)}, hasTasks);
        return finish(good, Drained{std::move(ids)}, hasTasks);
    }
    if (type == "store") {
        Store m;
        bool hasTask = false, hasValue = false;
        const bool good = r.fields(n, [&](std::string_view k) {
            if (k == "task") {
                hasTask = true;
                return ok(r.readUInt(m.task));
            }
            if (k == "value") {
                hasValue = true;
                return ok(r.readValue(m.value));
            }
            return 0;
        });
        return finish(good, std::move(m), hasTask && hasValue);
    }
    if (type == "cancel") {
        Cancel m;
        bool hasTask = false;
        const bool good = r.fields(n, [&](std::string_view k) {
            if (k != "task")
                return 0;
            hasTask = true;
            return ok(r.readUInt(m.task));
        });
        return finish(good, m, hasTask);
    }
    if (type == "drain" || type == "shutdown") {
        const bool good = r.fields(n, [](std::string_view) { return 0; });
        if (type == "drain")
            return finish(good, Drain{}, true);
        return finish(good, Shutdown{}, true);
    }
    r.fail("unknown message type \"" + type.substr(0, 40) + "\"");
    return std::nullopt;
}

std::size_t headSize(std::uint64_t n)
{
    return n < 24 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : n <= 0xffffffffu ? 5 : 9;
}

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
        acc += headSize(i >= 0 ? std::uint64_t(i) : std::uint64_t(-1 - i));
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

// ---------------------------------------------------------------------------------------

const char *messageTypeName(const Message &m)
{
    static const char *const names[] = {"hello",
                                        "execute",
                                        "completed",
                                        "log",
                                        "progress",
                                        "fetch",
                                        "fetched",
                                        "store",
                                        "release",
                                        "cancel",
                                        "drain",
                                        "drained",
                                        "shutdown"};
    static_assert(std::size(names) == std::variant_size_v<Message>);
    return names[m.index()];
}

void appendFrame(std::string &out, const Message &m)
{
    const std::size_t start = beginFrame(out);
    try {
        putMessage(out, m);
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
    const bool hasResult = c.ok && !c.remote;
    std::size_t fields = 7; // task attempt ok thread startUs endUs remote
    fields += !c.started;
    fields += hasResult;
    fields += c.remote;         // typeName
    fields += c.ok || c.remote; // bytes: held values are accounted for, inline ones too
    fields += c.ok ? 0 : 2;
    fields += !c.output.empty();
    putHead(out, Map, fields);
    putText(out, "task");
    putUInt(out, c.task);
    putText(out, "attempt");
    putInt(out, c.attempt);
    putText(out, "ok");
    putBool(out, c.ok);
    if (!c.started) {
        putText(out, "started");
        putBool(out, false);
    }
    putText(out, "remote");
    putBool(out, c.remote);
    if (hasResult) {
        putText(out, "result");
        appendCbor(out, c.result);
    }
    if (c.remote) {
        putText(out, "typeName");
        putText(out, c.typeName);
    }
    if (c.ok || c.remote) {
        putText(out, "bytes");
        putUInt(out, c.bytes);
    }
    if (!c.ok) {
        putText(out, "errorType");
        putText(out, c.errorType);
        putText(out, "errorMessage");
        putText(out, c.errorMessage);
    }
    if (!c.output.empty()) {
        putText(out, "output");
        putText(out, c.output);
    }
    putText(out, "thread");
    putInt(out, c.thread);
    putText(out, "startUs");
    putInt(out, c.startUs);
    putText(out, "endUs");
    putInt(out, c.endUs);
}

std::string batchFrameHeader(BatchFrame::Kind kind, std::uint32_t count, std::size_t itemBytes)
{
    std::string out;
    BatchFrame frame(out, kind);
    const std::size_t payload = out.size() - kFrameHeaderBytes + itemBytes;
    if (payload > kMaxFrameBytes)
        throw std::length_error("protocol frame of " + std::to_string(payload)
                                + " bytes exceeds the limit of " + std::to_string(kMaxFrameBytes)
                                + " bytes");
    putU32Fixed(out.data() + out.size() - 4, count);
    putU32Fixed(out.data(), std::uint32_t(payload));
    return out;
}

std::size_t cborSizeBound(const Value &v, std::size_t limit)
{
    std::size_t acc = 0;
    boundAdd(acc, v, limit);
    return acc;
}

// ---------------------------------------------------------------------------------------
// BatchFrame

BatchFrame::BatchFrame(std::string &out, Kind kind)
    : m_out(out)
    , m_start(beginFrame(out))
{
    putType(out,
            2,
            kind == Kind::Execute     ? "execute"
            : kind == Kind::Completed ? "completed"
                                      : "fetched");
    putText(out, "items");
    out.push_back(char((Array << 5) | 26)); // 4-byte count, patched by finish()
    m_countPos = out.size();
    out.append(4, '\0');
}

void BatchFrame::add(const Assignment &a)
{
    putExecuteItem(m_out,
                   a.task,
                   a.attempt,
                   a.function ? std::string_view(a.function->qualifiedName) : std::string_view(),
                   a.key,
                   a.args,
                   a.cancel && a.cancel->load(std::memory_order_relaxed));
    ++m_count;
}

void BatchFrame::add(const ExecuteItem &i)
{
    putExecuteItem(m_out, i.task, i.attempt, i.function, i.key, i.args, i.cancelled);
    ++m_count;
}

void BatchFrame::add(const Completion &c)
{
    appendCompletionItem(m_out, c);
    ++m_count;
}

void BatchFrame::add(const FetchedItem &item)
{
    putFetchedItem(m_out, item);
    ++m_count;
}

void BatchFrame::addFetched(std::uint64_t task, const Value &value)
{
    putHead(m_out, Map, 2);
    putText(m_out, "task");
    putUInt(m_out, task);
    putText(m_out, "value");
    appendCbor(m_out, value);
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
    putU32Fixed(m_out.data() + m_countPos, m_count);
    endFrame(m_out, m_start);
    return true;
}

// ---------------------------------------------------------------------------------------
// FrameReader

FrameReader::FrameReader(std::size_t maxFrame)
    : m_maxFrame(maxFrame)
{}

FrameReader::~FrameReader() = default;

void FrameReader::reserveTail(std::size_t want)
{
    if (m_capacity - m_end >= want)
        return;
    const std::size_t used = m_end - m_begin;
    if (m_begin > 0 && m_capacity - used >= want) {
        std::memmove(m_data.get(), m_data.get() + m_begin, used);
        m_begin = 0;
        m_end = used;
        return;
    }
    const std::size_t capacity = std::max(m_capacity * 2, used + want);
    auto data = std::make_unique_for_overwrite<char[]>(capacity);
    if (used)
        std::memcpy(data.get(), m_data.get() + m_begin, used);
    m_data = std::move(data);
    m_capacity = capacity;
    m_begin = 0;
    m_end = used;
}

FrameReader::ReadStatus FrameReader::readFrom(int fd, int *err, std::size_t chunk)
{
    // While a large frame is incomplete, read more of it at once (still bounded by what the
    // frame announced and by 8 MiB per call, not by the announced length alone).
    std::size_t want = chunk;
    if (buffered() >= kFrameHeaderBytes) {
        const auto *p = reinterpret_cast<const std::uint8_t *>(m_data.get() + m_begin);
        const std::size_t len = (std::size_t(p[0]) << 24) | (std::size_t(p[1]) << 16)
                                | (std::size_t(p[2]) << 8) | std::size_t(p[3]);
        if (len <= m_maxFrame && len + kFrameHeaderBytes > buffered())
            want = std::max(want,
                            std::min<std::size_t>(len + kFrameHeaderBytes - buffered(), 8 << 20));
    }
    reserveTail(want);
    for (;;) {
        const ssize_t n = ::read(fd, m_data.get() + m_end, m_capacity - m_end);
        if (n > 0) {
            m_end += std::size_t(n);
            return ReadStatus::Data;
        }
        if (n == 0)
            return ReadStatus::Closed;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return ReadStatus::WouldBlock;
        if (err)
            *err = errno;
        return ReadStatus::Error;
    }
}

void FrameReader::append(std::string_view bytes)
{
    reserveTail(bytes.size());
    if (!bytes.empty())
        std::memcpy(m_data.get() + m_end, bytes.data(), bytes.size());
    m_end += bytes.size();
}

FrameReader::Next FrameReader::next(std::string_view *payload, std::string *error)
{
    if (m_failed) {
        if (error)
            *error = "the stream failed earlier";
        return Next::Error;
    }
    if (m_begin == m_end) {
        m_begin = m_end = 0;
        return Next::NeedMore;
    }
    if (buffered() < kFrameHeaderBytes)
        return Next::NeedMore;
    const auto *p = reinterpret_cast<const std::uint8_t *>(m_data.get() + m_begin);
    const std::size_t len = (std::size_t(p[0]) << 24) | (std::size_t(p[1]) << 16)
                            | (std::size_t(p[2]) << 8) | std::size_t(p[3]);
    if (len > m_maxFrame) {
        m_failed = true;
        if (error)
            *error = "frame of " + std::to_string(len) + " bytes exceeds the limit of "
                     + std::to_string(m_maxFrame) + " bytes";
        return Next::Error;
    }
    if (buffered() - kFrameHeaderBytes < len)
        return Next::NeedMore;
    *payload = std::string_view(m_data.get() + m_begin + kFrameHeaderBytes, len);
    m_begin += kFrameHeaderBytes + len;
    return Next::Frame;
}

} // namespace taskbench::detail::proto
