// Compact text forms of stories, attempts and dependency lists (see sqlutil_p.h).
#include "sqlutil_p.h"

#include <charconv>

namespace taskbench::history::sql {

namespace {

template <class T>
void appendNumber(std::string &out, T value, char sep)
{
    char buf[24];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    if (ec == std::errc())
        out.append(buf, end);
    out += sep;
}

/// Reads `count` whitespace-separated integers of one entry; false if malformed.
bool readNumbers(std::string_view entry, std::int64_t *values, int count)
{
    const char *p = entry.data();
    const char *end = p + entry.size();
    for (int i = 0; i < count; ++i) {
        while (p < end && *p == ' ')
            ++p;
        const auto [next, ec] = std::from_chars(p, end, values[i]);
        if (ec != std::errc())
            return false;
        p = next;
    }
    return true;
}

template <class Fn>
void forEachEntry(const std::string &text, Fn &&fn)
{
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t stop = text.find(';', start);
        if (stop == std::string::npos)
            stop = text.size();
        if (stop > start)
            fn(std::string_view(text).substr(start, stop - start));
        start = stop + 1;
    }
}

} // namespace

void appendTransition(std::string &out, const TransitionRecord &t)
{
    appendNumber(out, int(t.from), ' ');
    appendNumber(out, int(t.to), ' ');
    appendNumber(out, t.timeUs, ' ');
    appendNumber(out, t.worker, ' ');
    appendNumber(out, t.attempt, ';');
}

void appendRun(std::string &out, const AttemptRecord &r)
{
    appendNumber(out, r.attempt, ' ');
    appendNumber(out, r.worker, ' ');
    appendNumber(out, r.thread, ' ');
    appendNumber(out, r.startUs, ' ');
    appendNumber(out, r.endUs, ' ');
    appendNumber(out, r.ok ? 1 : 0, ' ');
    appendNumber(out, r.usage.peakRssBytes, ' ');
    appendNumber(out, r.usage.cpuUs, ' ');
    appendNumber(out, r.usage.resultBytes, ';');
}

std::string formatIds(std::span<const std::uint64_t> ids)
{
    std::string out;
    for (std::uint64_t id : ids)
        appendNumber(out, id, ' ');
    if (!out.empty())
        out.pop_back();
    return out;
}

std::string formatCounts(const std::map<std::string, std::int64_t> &counts)
{
    std::string out;
    for (const auto &[status, n] : counts) {
        if (n <= 0)
            continue;
        if (!out.empty())
            out += ',';
        out += status;
        out += ' ';
        out += std::to_string(n);
    }
    return out;
}

std::vector<TransitionRecord> parseStory(const std::string &text)
{
    std::vector<TransitionRecord> out;
    forEachEntry(text, [&](std::string_view e) {
        std::int64_t v[5];
        if (!readNumbers(e, v, 5) || v[0] < 0 || v[0] >= kTaskStateCount || v[1] < 0
            || v[1] >= kTaskStateCount)
            return;
        out.push_back(
            TransitionRecord{TaskState(v[0]), TaskState(v[1]), v[2], int(v[3]), int(v[4])});
    });
    return out;
}

std::vector<AttemptRecord> parseRuns(const std::string &text)
{
    std::vector<AttemptRecord> out;
    forEachEntry(text, [&](std::string_view e) {
        // Six numbers before schema 4, then the usage: peak memory, CPU us, result bytes.
        std::int64_t v[9] = {0, 0, 0, 0, 0, 0, -1, -1, -1};
        if (!readNumbers(e, v, 6))
            return;
        readNumbers(e, v, 9);
        out.push_back(AttemptRecord{
            int(v[0]), int(v[1]), int(v[2]), v[3], v[4], v[5] != 0, {v[6], v[7], v[8]}});
    });
    return out;
}

std::vector<std::uint64_t> parseIds(const std::string &text)
{
    std::vector<std::uint64_t> out;
    const char *p = text.data();
    const char *end = p + text.size();
    while (p < end) {
        while (p < end && *p == ' ')
            ++p;
        std::uint64_t id = 0;
        const auto [next, ec] = std::from_chars(p, end, id);
        if (ec != std::errc())
            break;
        out.push_back(id);
        p = next;
    }
    return out;
}

std::map<std::string, std::int64_t> parseCounts(const std::string &text)
{
    std::map<std::string, std::int64_t> out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t stop = text.find(',', start);
        if (stop == std::string::npos)
            stop = text.size();
        const std::string_view entry = std::string_view(text).substr(start, stop - start);
        const std::size_t space = entry.find(' ');
        std::int64_t n = 0;
        if (space != std::string_view::npos && space > 0) {
            const char *first = entry.data() + space + 1;
            const char *last = entry.data() + entry.size();
            const auto [end, ec] = std::from_chars(first, last, n);
            if (ec == std::errc() && end == last && n >= 0)
                out[std::string(entry.substr(0, space))] += n;
        }
        start = stop + 1;
    }
    return out;
}

} // namespace taskbench::history::sql
