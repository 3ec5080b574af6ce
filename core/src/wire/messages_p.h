// The worker protocol's messages and *their layout*, each described once: a message is a
// struct, its "type" name (kType) and one fields() template listing its CBOR map keys in wire
// order, with when each is written and which a reader must see. The encoder and the decoder
// (wire/messagecodec.cpp) both walk these lists, so writer and reader cannot drift apart.
//
// A frame's payload is the map {"type": kType, <fields>...}; an item (ExecuteItem,
// Completion, FetchedItem) is a map of its fields. A reader skips keys it does not know and
// accepts them in any order; a writer writes them in the order listed. Changing a key, its
// order or its type changes the wire bytes: bump kProtocolVersion.
#pragma once

#include "workers/workerbackend_p.h"

#include "taskbench/value.h"

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace taskbench::detail::proto {

/// Bumped with every incompatible change of the messages below.
inline constexpr std::uint32_t kProtocolVersion = 2;

/// When a field is written, and whether a reader must have seen it.
struct Presence
{
    bool written = true;
    bool required = false;
};
inline constexpr Presence kAlways{};
inline constexpr Presence kRequired{true, true};
/// Written only when `written` holds for the value being encoded (optional on reading).
constexpr Presence when(bool written)
{
    return {written, false};
}

/// T is one of Types, const or not (a layout serves the encoder's const object and the
/// decoder's mutable one).
template <class T, class... Types>
concept OneOf = (std::same_as<std::remove_const_t<T>, Types> || ...);

// A layout is `template <class V, OneOf<Msg> M> void fields(V &v, M &m)` calling, per key,
// v.field("key", m.member, presence), and optionally v.check(condition, "message") for what a
// reader must refuse once all keys are read. Members are uint64/uint32/int/int64, bool,
// double (always the 9-byte float), strings, Values, id lists and item lists.

struct Hello
{
    static constexpr const char *kType = "hello";
    std::uint32_t version = kProtocolVersion;
    std::int64_t pid = 0;
    int worker = -1;
    int threads = 0;
    std::string token; ///< worker -> scheduler only: proves the connection is the spawned child
    /// worker -> scheduler: it measures attempts; a completion without usage fields was then
    /// a quick attempt (AttemptMeter::kQuickUs): CPU time its wall time, peak the last one sent.
    bool measures = false;
};
template <class V, OneOf<Hello> M>
void fields(V &v, M &m)
{
    v.field("version", m.version, kRequired);
    v.field("pid", m.pid, kAlways);
    v.field("worker", m.worker, kAlways);
    v.field("threads", m.threads, kAlways);
    v.field("token", m.token, when(!m.token.empty()));
    v.field("measures", m.measures, when(m.measures));
}

struct ExecuteItem
{
    std::uint64_t task = 0;
    int attempt = 0;
    std::string function; ///< qualified name
    std::string key;
    std::vector<Value> args; ///< may contain Value::ref("#<task id>"): a value the worker holds
    bool cancelled = false;  ///< cancelled before it was sent
};
/// An ExecuteItem's wire form borrowed from the scheduler's Assignment (encoding only).
struct ExecuteRef
{
    std::uint64_t task;
    int attempt;
    std::string_view function;
    std::string_view key;
    const std::vector<Value> &args;
    bool cancelled;
};
template <class V, OneOf<ExecuteItem, ExecuteRef> M>
void fields(V &v, M &m)
{
    v.field("task", m.task, kRequired);
    v.field("attempt", m.attempt, kAlways);
    v.field("function", m.function, kAlways);
    v.field("key", m.key, kAlways);
    v.field("args", m.args, kAlways);
    v.field("cancelled", m.cancelled, when(m.cancelled));
}
struct Execute
{
    static constexpr const char *kType = "execute";
    std::vector<ExecuteItem> items;
};

/// A Completion (workers/workerbackend_p.h) on the wire: result only when ok and not remote,
/// typeName when remote, bytes (an upper bound of the held value's CBOR size) when ok or
/// remote, the error when not ok, output when the task printed anything; started only for a
/// hand-back (false); peak memory and CPU time when the worker measured them.
template <class V, OneOf<Completion> M>
void fields(V &v, M &m)
{
    v.field("task", m.task, kRequired);
    v.field("attempt", m.attempt, kAlways);
    v.field("ok", m.ok, kAlways);
    v.field("started", m.started, when(!m.started));
    v.field("remote", m.remote, kAlways);
    v.field("result", m.result, when(m.ok && !m.remote));
    v.field("typeName", m.typeName, when(m.remote));
    v.field("bytes", m.bytes, when(m.ok || m.remote));
    v.field("errorType", m.errorType, when(!m.ok));
    v.field("errorMessage", m.errorMessage, when(!m.ok));
    v.field("output", m.output, when(!m.output.empty()));
    v.field("thread", m.thread, kAlways);
    v.field("startUs", m.startUs, kAlways);
    v.field("endUs", m.endUs, kAlways);
    v.field("peakRss", m.usage.peakRssBytes, when(m.usage.peakRssBytes >= 0));
    v.field("cpuUs", m.usage.cpuUs, when(m.usage.cpuUs >= 0));
}
struct Completed
{
    static constexpr const char *kType = "completed";
    std::vector<Completion> items;
};

struct LogLine
{
    static constexpr const char *kType = "log";
    std::uint64_t task = 0;
    std::string line;
};
template <class V, OneOf<LogLine> M>
void fields(V &v, M &m)
{
    v.field("task", m.task, kRequired);
    v.field("line", m.line, kAlways);
}

struct Progress
{
    static constexpr const char *kType = "progress";
    std::uint64_t task = 0;
    double fraction = 0;
    std::string text;
};
template <class V, OneOf<Progress> M>
void fields(V &v, M &m)
{
    v.field("task", m.task, kRequired);
    v.field("fraction", m.fraction, kAlways);
    v.field("text", m.text, kAlways);
}

struct FetchedItem
{
    std::uint64_t task = 0;
    std::optional<Value> value; ///< empty: see error
    std::string error;
};
/// A FetchedItem whose value the caller keeps (encoding only: no copy of a large value).
struct FetchedRef
{
    std::uint64_t task;
    const Value *value;
    std::string_view error;
};
template <class V, OneOf<FetchedItem, FetchedRef> M>
void fields(V &v, M &m)
{
    v.field("task", m.task, kRequired);
    v.field("value", m.value, when(bool(m.value)));
    v.field("error", m.error, when(!m.value));
    v.check(bool(m.value) || !m.error.empty(), "fetched item with neither value nor error");
}
struct Fetched
{
    static constexpr const char *kType = "fetched";
    std::vector<FetchedItem> items;
};

struct Store
{
    static constexpr const char *kType = "store";
    std::uint64_t task = 0;
    Value value;
};
template <class V, OneOf<Store> M>
void fields(V &v, M &m)
{
    v.field("task", m.task, kRequired);
    v.field("value", m.value, kRequired);
}

struct Cancel
{
    static constexpr const char *kType = "cancel";
    std::uint64_t task = 0;
};
template <class V, OneOf<Cancel> M>
void fields(V &v, M &m)
{
    v.field("task", m.task, kRequired);
}

/// Scheduler -> worker: the values to send back.
struct Fetch
{
    static constexpr const char *kType = "fetch";
    std::vector<std::uint64_t> tasks;
};
/// Scheduler -> worker: the values no longer needed.
struct Release
{
    static constexpr const char *kType = "release";
    std::vector<std::uint64_t> tasks;
};
/// Worker -> scheduler: the assignments removed by Drain (they never ran).
struct Drained
{
    static constexpr const char *kType = "drained";
    std::vector<std::uint64_t> tasks;
};
template <class V, OneOf<Fetch, Release, Drained> M>
void fields(V &v, M &m)
{
    v.field("tasks", m.tasks, kRequired);
}

template <class V, OneOf<Execute, Completed, Fetched> M>
void fields(V &v, M &m)
{
    v.field("items", m.items, kRequired);
}

/// Scheduler -> worker: hand back every assignment that has not started.
struct Drain
{
    static constexpr const char *kType = "drain";
};
/// Scheduler -> worker: exit now (results are discarded).
struct Shutdown
{
    static constexpr const char *kType = "shutdown";
};
template <class V, OneOf<Drain, Shutdown> M>
void fields(V &, M &)
{}

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

} // namespace taskbench::detail::proto
