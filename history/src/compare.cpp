// Two recorded sessions side by side. Matching goes in two passes: equal keys first (a pure
// task has the same key in every run), then what is left is paired by function, map group
// (without the random suffix a map adds to its group name) and position within that group,
// so a non-pure map of the same inputs still lines up task by task.
#include "taskbench/history/compare.h"

#include "csv_p.h"
#include "taskbench/valuecodec.h"

#include <QCryptographicHash>

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <unordered_map>

namespace taskbench::history {

namespace {

std::string sha256(const std::string &text)
{
    return QCryptographicHash::hash(QByteArrayView(text.data(), qsizetype(text.size())),
                                    QCryptographicHash::Sha256)
        .toHex()
        .toStdString();
}

/// Run time, as the GUI's Futures table shows it: the last attempt's start to its end. The
/// first start to the final state would count the time a failed task waited for a manual
/// Retry (seconds, for attempts of microseconds). Records without attempts (older
/// recordings) fall back to that span.
std::int64_t runDurationOf(const TaskRecord &t)
{
    if (!t.runs.empty()) {
        const AttemptRecord &last = t.runs.back();
        return last.startUs > 0 && last.endUs >= last.startUs ? last.endUs - last.startUs : -1;
    }
    if (t.startedUs > 0 && t.finishedUs >= t.startedUs)
        return t.finishedUs - t.startedUs;
    return -1;
}

CompareSide sideOf(const TaskRecord &t)
{
    CompareSide s;
    s.id = t.id;
    s.status = t.status;
    s.durationUs = runDurationOf(t);
    if (t.resultStored)
        s.resultHash = sha256(t.resultJson);
    s.resultType = t.resultType;
    if (!t.errorType.empty() || !t.errorMessage.empty())
        s.error = t.errorType + (t.errorMessage.empty() ? "" : ": " + t.errorMessage);
    s.cachedFrom = t.cachedFrom;
    return s;
}

/// "inc-map-1a2b3c4d" -> "inc-map": a map's group name ends in a random token per call.
std::string stableGroup(const TaskRecord &t)
{
    const std::string &g = t.group.empty() ? t.function : t.group;
    const std::size_t at = g.rfind("-map-");
    if (at != std::string::npos && g.size() - at == 5 + 8)
        return g.substr(0, at + 4);
    return g;
}

ResultMatch matchResults(const CompareSide &a, const CompareSide &b)
{
    if (!a.resultHash.empty() && !b.resultHash.empty())
        return a.resultHash == b.resultHash ? ResultMatch::Equal : ResultMatch::Different;
    // One side has no result at all (an error) while the other has one: they differ.
    if (!a.resultType.empty() && !b.resultType.empty() && a.resultType != b.resultType)
        return ResultMatch::Different;
    if (a.resultType.empty() != b.resultType.empty())
        return ResultMatch::Different;
    return ResultMatch::Unknown;
}

TaskComparison pair(const TaskRecord &a, const TaskRecord &b, const char *by)
{
    TaskComparison c;
    c.key = a.key;
    c.function = a.function;
    c.matchedBy = by;
    c.a = sideOf(a);
    c.b = sideOf(b);
    // Run times are whole microseconds: a trivial task reads 0, which means "under 1 us".
    // Taken as 1 us, it still has a ratio (rather than none, or 0 when only B is that fast,
    // which would make a run of trivial tasks "infinitely faster").
    if (c.a->durationUs >= 0 && c.b->durationUs >= 0)
        c.ratio = double(std::max<std::int64_t>(c.b->durationUs, 1))
                  / double(std::max<std::int64_t>(c.a->durationUs, 1));
    c.result = matchResults(*c.a, *c.b);
    return c;
}

TaskComparison single(const TaskRecord &t, bool inA)
{
    TaskComparison c;
    c.key = t.key;
    c.function = t.function;
    (inA ? c.a : c.b) = sideOf(t);
    return c;
}

void summarize(SessionComparison &c)
{
    CompareSummary &s = c.summary;
    std::vector<double> ratios;
    std::vector<std::size_t> timed;
    for (std::size_t i = 0; i < c.tasks.size(); ++i) {
        const TaskComparison &t = c.tasks[i];
        s.cachedInA += t.a && t.a->cached();
        s.cachedInB += t.b && t.b->cached();
        if (!t.a) {
            ++s.onlyInB;
        } else if (!t.b) {
            ++s.onlyInA;
        } else {
            ++s.matched;
            s.resultsEqual += t.result == ResultMatch::Equal;
            s.resultsDifferent += t.result == ResultMatch::Different;
        }
        if (t.ratio >= 0) {
            ratios.push_back(t.ratio);
            timed.push_back(i);
        }
        if (t.newlyFailing())
            s.newlyFailing.push_back(i);
        if (t.fixed())
            s.fixed.push_back(i);
    }
    if (!ratios.empty()) {
        const std::size_t mid = ratios.size() / 2;
        std::nth_element(ratios.begin(), ratios.begin() + std::ptrdiff_t(mid), ratios.end());
        double median = ratios[mid];
        if (ratios.size() % 2 == 0)
            median
                = (median + *std::max_element(ratios.begin(), ratios.begin() + std::ptrdiff_t(mid)))
                  / 2;
        s.medianRatio = median;
    }
    const auto byRatio = [&](std::size_t x, std::size_t y) {
        return std::tie(c.tasks[x].ratio, y) > std::tie(c.tasks[y].ratio, x);
    };
    std::stable_sort(timed.begin(), timed.end(), byRatio);
    for (std::size_t i : timed)
        if (c.tasks[i].ratio > 1 && s.slowest.size() < kCompareWorst)
            s.slowest.push_back(i);
    for (auto it = timed.rbegin(); it != timed.rend(); ++it)
        if (c.tasks[*it].ratio < 1 && s.fastest.size() < kCompareWorst)
            s.fastest.push_back(*it);
}

long long ll(std::int64_t v)
{
    return static_cast<long long>(v);
}

Value sideValue(const std::optional<CompareSide> &s)
{
    if (!s)
        return Value();
    return Value::Map{{"id", ll(std::int64_t(s->id))},
                      {"status", s->status},
                      {"duration_us", ll(s->durationUs)},
                      {"result_hash", s->resultHash},
                      {"result_type", s->resultType},
                      {"error", s->error.empty() ? Value() : Value(s->error)},
                      {"cached", s->cached()},
                      {"cached_from", s->cachedFrom > 0 ? Value(ll(s->cachedFrom)) : Value()}};
}

/// "finished", or "finished (cached)" for a task served from the result cache.
std::string statusText(const std::optional<CompareSide> &s)
{
    if (!s)
        return "-";
    return s->cached() ? s->status + " (cached)" : s->status;
}

Value indexList(const SessionComparison &c, const std::vector<std::size_t> &indexes)
{
    Value::List keys;
    for (std::size_t i : indexes)
        keys.push_back(c.tasks[i].key);
    return keys;
}

std::string ratioText(double r)
{
    if (r < 0)
        return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fx", r);
    return buf;
}

std::string durationText(const std::optional<CompareSide> &s)
{
    if (!s || s->durationUs < 0)
        return "-";
    // Most tasks take micro- or milliseconds: seconds with three decimals would read 0.000.
    char buf[32];
    const double us = double(s->durationUs);
    if (us < 1e3)
        std::snprintf(buf, sizeof buf, "%.0f us", us);
    else if (us < 1e6)
        std::snprintf(buf, sizeof buf, "%.2f ms", us / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.3f s", us / 1e6);
    return buf;
}

std::string taskLine(const TaskComparison &t)
{
    std::string line = "  " + t.key + "  " + statusText(t.a) + " -> " + statusText(t.b) + "  "
                       + durationText(t.a) + " -> " + durationText(t.b) + " (" + ratioText(t.ratio)
                       + ")  result " + resultMatchName(t.result);
    if (t.a && !t.a->error.empty())
        line += "  A: " + t.a->error;
    if (t.b && !t.b->error.empty())
        line += "  B: " + t.b->error;
    return line + "\n";
}

bool failed(const CompareSide &s)
{
    return s.status == "error" || s.status == "lost";
}

} // namespace

const char *resultMatchName(ResultMatch m)
{
    switch (m) {
    case ResultMatch::Equal:
        return "equal";
    case ResultMatch::Different:
        return "different";
    case ResultMatch::Unknown:
        break;
    }
    return "unknown";
}

bool TaskComparison::newlyFailing() const
{
    return b && failed(*b) && (!a || !failed(*a));
}

bool TaskComparison::fixed() const
{
    return a && b && failed(*a) && b->status == "finished";
}

SessionComparison compareTasks(const SessionSummary &a,
                               const std::vector<TaskRecord> &tasksA,
                               const SessionSummary &b,
                               const std::vector<TaskRecord> &tasksB)
{
    SessionComparison c;
    c.a = a;
    c.b = b;
    std::unordered_map<std::string, std::size_t> keyInB;
    keyInB.reserve(tasksB.size());
    for (std::size_t i = 0; i < tasksB.size(); ++i)
        keyInB.emplace(tasksB[i].key, i);
    std::vector<bool> usedB(tasksB.size(), false);
    std::vector<std::size_t> leftA;
    std::vector<std::optional<std::size_t>> matchOfA(tasksA.size());
    for (std::size_t i = 0; i < tasksA.size(); ++i) {
        const auto it = keyInB.find(tasksA[i].key);
        if (it != keyInB.end() && !usedB[it->second]) {
            usedB[it->second] = true;
            matchOfA[i] = it->second;
        } else {
            leftA.push_back(i);
        }
    }
    // Second pass: (function, stable group) -> the unmatched tasks in id order, paired by rank.
    using Bucket = std::pair<std::string, std::string>;
    std::map<Bucket, std::vector<std::size_t>> bucketsB;
    for (std::size_t i = 0; i < tasksB.size(); ++i)
        if (!usedB[i])
            bucketsB[{tasksB[i].function, stableGroup(tasksB[i])}].push_back(i);
    std::map<Bucket, std::size_t> taken;
    std::vector<bool> byPosition(tasksA.size(), false);
    for (std::size_t i : leftA) {
        const Bucket bucket{tasksA[i].function, stableGroup(tasksA[i])};
        const auto it = bucketsB.find(bucket);
        std::size_t &n = taken[bucket];
        if (it != bucketsB.end() && n < it->second.size()) {
            matchOfA[i] = it->second[n++];
            usedB[*matchOfA[i]] = true;
            byPosition[i] = true;
        }
    }
    c.tasks.reserve(tasksA.size() + tasksB.size());
    for (std::size_t i = 0; i < tasksA.size(); ++i)
        c.tasks.push_back(
            matchOfA[i] ? pair(tasksA[i], tasksB[*matchOfA[i]], byPosition[i] ? "position" : "key")
                        : single(tasksA[i], true));
    for (std::size_t i = 0; i < tasksB.size(); ++i)
        if (!usedB[i])
            c.tasks.push_back(single(tasksB[i], false));
    summarize(c);
    return c;
}

std::optional<SessionComparison>
compareSessions(HistoryStore &store, std::int64_t a, std::int64_t b, std::string *error)
{
    const std::optional<SessionSummary> sa = store.session(a);
    const std::optional<SessionSummary> sb = store.session(b);
    for (const auto &[id, s] : {std::pair{a, &sa}, std::pair{b, &sb}})
        if (!*s) {
            if (error)
                *error = "no session " + std::to_string(id) + " in " + store.path();
            return std::nullopt;
        }
    TaskQuery qa;
    qa.session = a;
    TaskQuery qb;
    qb.session = b;
    return compareTasks(*sa, store.tasks(qa), *sb, store.tasks(qb));
}

std::string compareCsv(const SessionComparison &c)
{
    std::string out
        = "key,function,matched_by,status_a,status_b,duration_a_us,duration_b_us,"
          "ratio,result,result_hash_a,result_hash_b,error_a,error_b,cached_a,cached_b\r\n";
    for (const TaskComparison &t : c.tasks) {
        char ratio[32] = "";
        if (t.ratio >= 0)
            std::snprintf(ratio, sizeof ratio, "%.4f", t.ratio);
        const auto dur = [](const std::optional<CompareSide> &s) {
            return s && s->durationUs >= 0 ? std::to_string(s->durationUs) : std::string();
        };
        // The session that computed a cached value ("0": unknown); "" for a task that ran.
        const auto cachedFrom = [](const std::optional<CompareSide> &s) {
            return s && s->cached() ? std::to_string(s->cachedFrom) : std::string();
        };
        const std::vector<std::string> fields{t.key,
                                              t.function,
                                              t.matchedBy,
                                              t.a ? t.a->status : "",
                                              t.b ? t.b->status : "",
                                              dur(t.a),
                                              dur(t.b),
                                              ratio,
                                              resultMatchName(t.result),
                                              t.a ? t.a->resultHash : "",
                                              t.b ? t.b->resultHash : "",
                                              t.a ? t.a->error : "",
                                              t.b ? t.b->error : "",
                                              cachedFrom(t.a),
                                              cachedFrom(t.b)};
        for (std::size_t i = 0; i < fields.size(); ++i)
            out += (i ? "," : "") + csv::field(fields[i]);
        out += "\r\n";
    }
    return out;
}

std::string compareJson(const SessionComparison &c)
{
    const CompareSummary &s = c.summary;
    Value::List tasks;
    tasks.reserve(c.tasks.size());
    for (const TaskComparison &t : c.tasks)
        tasks.push_back(Value::Map{{"key", t.key},
                                   {"function", t.function},
                                   {"matched_by", t.matchedBy},
                                   {"a", sideValue(t.a)},
                                   {"b", sideValue(t.b)},
                                   {"ratio", t.ratio >= 0 ? Value(t.ratio) : Value()},
                                   {"result", resultMatchName(t.result)}});
    const Value summary
        = Value::Map{{"matched", ll(s.matched)},
                     {"only_in_a", ll(s.onlyInA)},
                     {"only_in_b", ll(s.onlyInB)},
                     {"results_equal", ll(s.resultsEqual)},
                     {"results_different", ll(s.resultsDifferent)},
                     {"cached_in_a", ll(s.cachedInA)},
                     {"cached_in_b", ll(s.cachedInB)},
                     {"median_ratio", s.medianRatio >= 0 ? Value(s.medianRatio) : Value()},
                     {"slowest", indexList(c, s.slowest)},
                     {"fastest", indexList(c, s.fastest)},
                     {"newly_failing", indexList(c, s.newlyFailing)},
                     {"fixed", indexList(c, s.fixed)}};
    return toJson(Value::Map{{"a", ll(c.a.id)},
                             {"b", ll(c.b.id)},
                             {"title_a", c.a.title},
                             {"title_b", c.b.title},
                             {"summary", summary},
                             {"tasks", Value(std::move(tasks))}});
}

std::string compareText(const SessionComparison &c, bool all)
{
    const CompareSummary &s = c.summary;
    std::string out = "Session A #" + std::to_string(c.a.id) + ": " + c.a.title + "\n"
                      + "Session B #" + std::to_string(c.b.id) + ": " + c.b.title + "\n";
    out += std::to_string(s.matched) + " matched, " + std::to_string(s.onlyInA) + " only in A, "
           + std::to_string(s.onlyInB) + " only in B; results " + std::to_string(s.resultsEqual)
           + " equal, " + std::to_string(s.resultsDifferent) + " different\n";
    if (s.cachedInA > 0 || s.cachedInB > 0)
        out += "From the result cache (not run, so not timed): " + std::to_string(s.cachedInA)
               + " in A, " + std::to_string(s.cachedInB) + " in B\n";
    out += "Median duration ratio B/A: " + ratioText(s.medianRatio) + "\n";
    const auto section = [&](const char *title, const std::vector<std::size_t> &indexes) {
        if (indexes.empty())
            return;
        out += std::string(title) + " (" + std::to_string(indexes.size()) + "):\n";
        for (std::size_t i : indexes)
            out += taskLine(c.tasks[i]);
    };
    section("Newly failing", s.newlyFailing);
    section("Fixed", s.fixed);
    section("Slowest", s.slowest);
    section("Fastest", s.fastest);
    if (all) {
        out += "Tasks:\n";
        for (const TaskComparison &t : c.tasks)
            out += taskLine(t);
    }
    return out;
}

} // namespace taskbench::history
