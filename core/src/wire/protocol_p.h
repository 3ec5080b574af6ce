// The wire protocol between the scheduler and its worker processes (taskbench-worker): the
// API over the messages of wire/messages_p.h (where each message's layout is defined).
//
// A stream of frames: a 4-byte big-endian payload length, then the payload, one CBOR map
// {"type": "<name>", ...}. Messages that carry many items (execute, completed, fetched) batch
// them in one frame so that many small tasks cost one system call, not one each. Values
// inside (arguments, results) are the canonical CBOR of taskbench/valuecodec.h; the envelope
// is written and read field by field from the message layouts (wire/messagecodec.cpp),
// because going through a Value map per item would cost several allocations per task.
//
// Handshake: the worker's first frame is Hello{version, pid, worker, threads, token}; the
// scheduler's first frame is Hello{version, pid, worker}. The versions must match exactly
// (kProtocolVersion changes with any change to the messages).
//
// Decoding treats every frame as hostile: lengths are checked against the bytes that remain
// before anything is allocated, nesting is bounded, a frame longer than kMaxFrameBytes is an
// error (wire/framereader_p.h), and a malformed or truncated frame yields an error message,
// never a crash.
#pragma once

#include "wire/framereader_p.h"
#include "wire/messages_p.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskbench::detail::proto {

/// A result whose CBOR encoding is at most this long travels inline with its completion.
inline constexpr std::size_t kInlineResultBytes = 1024;
/// Environment variable through which the scheduler hands the worker its handshake token.
inline constexpr const char *kTokenEnv = "TASKBENCH_WORKER_TOKEN";
/// Error type of a completion whose "#<id>" input the worker does not hold.
inline constexpr const char *kMissingDataError = "MissingData";

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

} // namespace taskbench::detail::proto
