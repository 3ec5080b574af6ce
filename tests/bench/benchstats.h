// The arithmetic and the output format of ../shared/bench/WORKLOADS.md, kept apart from the
// engine so that tst_bench checks them without running a cluster: the workload table, the
// --scale rounding, medians, the nearest-rank percentile and the JSON line with its fixed key
// order. Header-only and standard-library-only (taskbench-bench and tst_bench both use it).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskbench::bench {

struct WorkloadSpec
{
    std::string_view name;
    std::int64_t baseN;
};

/// WORKLOADS.md §2, in its default order (also the default of --workloads).
inline constexpr std::array<WorkloadSpec, 6> kWorkloads{{{"submit", 5000},
                                                         {"map", 20000},
                                                         {"chain", 2000},
                                                         {"tree", 4096},
                                                         {"latency", 300},
                                                         {"retries", 2000}}};

inline std::optional<WorkloadSpec> findWorkload(std::string_view name)
{
    for (const WorkloadSpec &w : kWorkloads)
        if (w.name == name)
            return w;
    return std::nullopt;
}

/// N = max(1, floor(base × S + 0.5)): round half up, computed in double like the peer.
inline std::int64_t scaledSize(std::int64_t base, double scale)
{
    return std::max<std::int64_t>(1, std::int64_t(std::floor(double(base) * scale + 0.5)));
}

/// Tasks counted for a workload of size n: a tree of n leaves runs 2n − 1 tasks.
inline std::int64_t taskCount(std::string_view workload, std::int64_t n)
{
    return workload == "tree" ? 2 * n - 1 : n;
}

/// The median; the mean of the two middle values for an even count. Empty input: 0.
inline double median(std::vector<double> values)
{
    if (values.empty())
        return 0.0;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

/// Nearest-rank percentile of ascending values: the one at 1-based position ⌈q/100 × n⌉.
inline double nearestRank(const std::vector<double> &sorted, double q)
{
    if (sorted.empty())
        return 0.0;
    // The epsilon absorbs rounding in q/100 × n so that an exact integer product (0.99 × 300
    // = 297) is not pushed to the next rank; no real product lies that close above one.
    const double rank = std::ceil(q / 100.0 * double(sorted.size()) - 1e-9);
    const std::size_t pos = std::size_t(std::max(1.0, rank));
    return sorted[std::min(pos, sorted.size()) - 1];
}

/// A JSON string literal (quotes included).
inline std::string jsonString(std::string_view s)
{
    std::string out = "\"";
    for (const char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

/// A number with fixed decimals, or null. Non-finite values are not JSON: null.
inline std::string jsonNumber(std::optional<double> v, int decimals)
{
    if (!v || !std::isfinite(*v))
        return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
    return buf;
}

/// One output line of WORKLOADS.md §3.
struct Record
{
    std::string engine;
    std::string workload;
    std::int64_t tasks = 0;
    std::optional<double> seconds;
    std::optional<double> p50us;
    std::optional<double> p99us;
    bool ok = false;

    /// tasks / seconds; none for start-up (no tasks) and when seconds is missing or zero.
    std::optional<double> tasksPerSecond() const
    {
        if (tasks == 0 || !seconds || *seconds <= 0.0)
            return std::nullopt;
        return double(tasks) / *seconds;
    }
};

/// The JSON line, keys in the order of the spec, separators as Python's json.dumps writes
/// them (consumers must not depend on that, but the two sides then look alike).
inline std::string toJson(const Record &r)
{
    return "{\"engine\": " + jsonString(r.engine) + ", \"workload\": " + jsonString(r.workload)
           + ", \"tasks\": " + std::to_string(r.tasks) + ", \"seconds\": "
           + jsonNumber(r.seconds, 6) + ", \"tasks_per_s\": " + jsonNumber(r.tasksPerSecond(), 1)
           + ", \"latency_us_p50\": " + jsonNumber(r.p50us, 1) + ", \"latency_us_p99\": "
           + jsonNumber(r.p99us, 1) + ", \"ok\": " + (r.ok ? "true" : "false") + "}";
}

/// The human-readable line (without --json), laid out like the peer's.
inline std::string toText(const Record &r)
{
    char buf[256];
    if (r.workload == "startup") {
        std::snprintf(buf,
                      sizeof buf,
                      "%-15s %-8s %7s        %9.3f s%s",
                      r.engine.c_str(),
                      "startup",
                      "",
                      r.seconds.value_or(0.0),
                      r.ok ? "" : "  FAILED");
        return buf;
    }
    const auto fmt = [](std::optional<double> v, const char *f) {
        if (!v)
            return std::string("-");
        char b[64];
        std::snprintf(b, sizeof b, f, *v);
        return std::string(b);
    };
    std::string line = r.engine;
    line.resize(std::max<std::size_t>(line.size(), 15), ' ');
    std::snprintf(buf,
                  sizeof buf,
                  " %-8s %7lld tasks %9s s %12s tasks/s",
                  r.workload.c_str(),
                  static_cast<long long>(r.tasks),
                  fmt(r.seconds, "%.3f").c_str(),
                  fmt(r.tasksPerSecond(), "%.1f").c_str());
    line += buf;
    if (r.workload == "latency")
        line += "  p50 " + fmt(r.p50us, "%.1f") + " us  p99 " + fmt(r.p99us, "%.1f") + " us";
    if (!r.ok)
        line += "  FAILED";
    return line;
}

/// The line of the memory mode (not a WORKLOADS.md workload; same engine field).
struct MemoryRecord
{
    std::string engine;
    std::int64_t futures = 0;
    std::optional<double> bytesPerFuture;
    bool ok = false;
};

inline std::string toJson(const MemoryRecord &r)
{
    return "{\"engine\": " + jsonString(r.engine)
           + ", \"workload\": \"memory_per_future\", \"futures\": " + std::to_string(r.futures)
           + ", \"bytes_per_future\": " + jsonNumber(r.bytesPerFuture, 1)
           + ", \"ok\": " + (r.ok ? "true" : "false") + "}";
}

inline std::string toText(const MemoryRecord &r)
{
    char buf[256];
    std::snprintf(buf,
                  sizeof buf,
                  "%-15s memory   %7lld pending futures %s bytes/future%s",
                  r.engine.c_str(),
                  static_cast<long long>(r.futures),
                  jsonNumber(r.bytesPerFuture, 1).c_str(),
                  r.ok ? "" : "  FAILED");
    return buf;
}

} // namespace taskbench::bench
