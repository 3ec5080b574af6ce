// The wire protocol between the scheduler and its worker processes (taskbench-worker).
//
// A stream of frames: a 4-byte big-endian payload length, then the payload, one CBOR map
// {"type": "<name>", ...}. Messages that carry many items (execute, completed, fetched) batch
// them in one frame so that many small tasks cost one system call, not one each. Values
// inside (arguments, results) are the canonical CBOR of taskbench/valuecodec.h; the envelope
// is written and read here by hand, because going through a Value map per item would cost
// several allocations per task.
//
// Handshake: the worker's first frame is Hello{version, pid, worker, threads, token}; the
// scheduler's first frame is Hello{version, pid, worker}. The versions must match exactly
// (kProtocolVersion changes with any change to this file's messages).
//
// Decoding treats every frame as hostile: lengths are checked against the bytes that remain
// before anything is allocated, nesting is bounded, a frame longer than kMaxFrameBytes is an
// error, and a malformed or truncated frame yields an error message, never a crash.
#pragma once

#include "workers/workerbackend_p.h"

#include "taskbench/value.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace taskbench::detail::proto {

/// Bumped with every incompatible change of the messages below.
inline constexpr std::uint32_t kProtocolVersion = 1;
/// Bytes of the length prefix.
inline constexpr std::size_t kFrameHeaderBytes = 4;
/// Largest payload accepted (and sent): a longer announced length is a protocol error.
inline constexpr std::size_t kMaxFrameBytes = std::size_t(256) << 20;
/// A result whose CBOR encoding is at most this long travels inline with its completion.
inline constexpr std::size_t kInlineResultBytes = 1024;
/// Environment variable through which the scheduler hands the worker its handshake token.
inline constexpr const char *kTokenEnv = "TASKBENCH_WORKER_TOKEN";
/// Error type of a completion whose "#<id>" input the worker does not hold.
inline constexpr const char *kMissingDataError = "MissingData";

struct Hello
{
    std::uint32_t version = kProtocolVersion;
    std::int64_t pid = 0;
    int worker = -1;
    int threads = 0;
    std::string token; ///< worker -> scheduler only: proves the connection is the spawned child
};

struct ExecuteItem
{
    std::uint64_t task = 0;
    int attempt = 0;
    std::string function; ///< qualified name
    std::string key;
    std::vector<Value> args; ///< may contain Value::ref("#<task id>"): a value the worker holds
    bool cancelled = false;  ///< cancelled before it was sent
};
struct Execute
{
    std::vector<ExecuteItem> items;
};
/// Items carry: task, attempt, ok, remote, thread, startUs, endUs; started = false only for
/// a hand-back; result when ok and not remote; typeName when remote; bytes when ok (an
/// upper bound of the held value's CBOR size); errorType and errorMessage when not ok;
/// output when the task printed anything.
struct Completed
{
    std::vector<Completion> items;
};
struct LogLine
{
    std::uint64_t task = 0;
    std::string line;
};
struct Progress
{
    std::uint64_t task = 0;
    double fraction = 0;
    std::string text;
};
struct Fetch
{
    std::vector<std::uint64_t> tasks;
};
struct FetchedItem
{
    std::uint64_t task = 0;
    std::optional<Value> value; ///< empty: see error
    std::string error;
};
struct Fetched
{
    std::vector<FetchedItem> items;
};
struct Store
{
    std::uint64_t task = 0;
    Value value;
};
struct Release
{
    std::vector<std::uint64_t> tasks;
};
struct Cancel
{
    std::uint64_t task = 0;
};
/// Scheduler -> worker: hand back every assignment that has not started.
struct Drain
{};
/// Worker -> scheduler: the assignments removed by Drain (they never ran).
struct Drained
{
    std::vector<std::uint64_t> tasks;
};
/// Scheduler -> worker: exit now (results are discarded).
struct Shutdown
{};

using Message = std::variant<Hello,
                             Execute,
                             Completed,
                             LogLine,
                             Progress,
                             Fetch,
                             Fetched,
                             Store,
                             Release,
                             Cancel,
                             Drain,
                             Drained,
                             Shutdown>;

/// "hello", "execute", ... (the "type" field).
const char *messageTypeName(const Message &m);

/// Appends one complete frame (length prefix + payload) for m. Throws std::length_error when
/// the payload would exceed kMaxFrameBytes (out is then unchanged).
void appendFrame(std::string &out, const Message &m);
std::string encodeFrame(const Message &m);

/// Decodes one payload (without the length prefix). nullopt and *error on malformed input.
std::optional<Message> decodeMessage(std::string_view payload, std::string *error = nullptr);

/// Checks a Hello against what this side expects: the exact protocol version and, when
/// `token` is not empty, the token. Returns an empty string when it is acceptable.
std::string checkHello(const Hello &hello, std::string_view token = {});

/// Builds a frame of many items without an intermediate message object (the hot path):
/// begin(), then appendItem() per item, then finish(). The item count and the length are
/// patched in at the end.
class BatchFrame
{
public:
    enum class Kind { Execute, Completed, Fetched };
    /// Starts a frame at the end of out (which must outlive this object).
    BatchFrame(std::string &out, Kind kind);
    void add(const Assignment &a); ///< Execute
    void add(const ExecuteItem &item);
    void add(const Completion &c); ///< Completed
    void add(const FetchedItem &item);
    /// Fetched item with a value the caller keeps (no copy of a large value).
    void addFetched(std::uint64_t task, const Value &value);
    /// Appends an item that was encoded elsewhere (appendCompletionItem...).
    void addEncoded(std::string_view item);
    std::uint32_t count() const { return m_count; }
    /// Bytes of this frame so far (header included).
    std::size_t size() const { return m_out.size() - m_start; }
    /// Removes the last item(s) encoded since `mark` (a size() value) — used to back out an
    /// item that made the frame too large.
    void rollback(std::size_t mark, std::uint32_t countAtMark);
    /// Patches count and length. Returns false (and removes the frame) when it is empty.
    /// Throws std::length_error when the payload exceeds kMaxFrameBytes (frame removed).
    bool finish();

private:
    std::string &m_out;
    std::size_t m_start;
    std::size_t m_countPos;
    std::uint32_t m_count = 0;
    bool m_done = false;
};

/// Encodes one completion item (as BatchFrame::add(Completion) would) into out; worker threads
/// encode in parallel and hand the bytes to addEncoded().
void appendCompletionItem(std::string &out, const Completion &c);

/// The bytes that, followed by `itemBytes` bytes holding `count` encoded items, make one
/// complete batch frame (lets a sender writev() the header and an item buffer without
/// copying). Throws std::length_error when the frame would exceed kMaxFrameBytes.
std::string batchFrameHeader(BatchFrame::Kind kind, std::uint32_t count, std::size_t itemBytes);

/// An upper bound of the CBOR size of v; stops counting (and returns a value > limit) as soon
/// as the bound passes limit. Cheap: no encoding, no allocation.
std::size_t cborSizeBound(const Value &v, std::size_t limit = SIZE_MAX);

/// Accumulates bytes from a stream (a non-blocking socket, or test input) and yields the
/// complete frames. The buffer grows with the data that actually arrived, never with an
/// announced length, so a hostile prefix cannot make it allocate.
class FrameReader
{
public:
    explicit FrameReader(std::size_t maxFrame = kMaxFrameBytes);
    ~FrameReader();
    FrameReader(const FrameReader &) = delete;
    FrameReader &operator=(const FrameReader &) = delete;

    enum class ReadStatus {
        Data,       ///< some bytes were read
        WouldBlock, ///< nothing to read now (EAGAIN)
        Closed,     ///< orderly end of stream
        Error       ///< read error (errno in *err)
    };
    /// One read() into the buffer (of up to `chunk` bytes, more when a large frame is
    /// pending). Retries on EINTR.
    ReadStatus readFrom(int fd, int *err = nullptr, std::size_t chunk = 256 * 1024);
    /// Appends bytes (tests, other transports).
    void append(std::string_view bytes);

    enum class Next {
        Frame,    ///< *payload is a complete frame, valid until the next call on this reader
        NeedMore, ///< no complete frame buffered
        Error     ///< the stream is unusable (*error says why)
    };
    Next next(std::string_view *payload, std::string *error = nullptr);

    /// Bytes buffered but not yet returned as frames.
    std::size_t buffered() const { return m_end - m_begin; }
    /// Changes the largest frame accepted from now on (a handshake is read with a small
    /// limit; the connection it proves gets the full one, keeping what is buffered).
    void setMaxFrame(std::size_t maxFrame) { m_maxFrame = maxFrame; }

private:
    void reserveTail(std::size_t want);

    std::size_t m_maxFrame;
    std::unique_ptr<char[]> m_data;
    std::size_t m_capacity = 0;
    std::size_t m_begin = 0;
    std::size_t m_end = 0;
    bool m_failed = false;
};

} // namespace taskbench::detail::proto
