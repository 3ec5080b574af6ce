#include "sweepbuilder.h"

#include <QObject>

#include <limits>

namespace taskbench::gui {

std::size_t sweepCount(const std::vector<std::size_t> &sizes, SweepMode mode, QString *warning)
{
    if (sizes.empty())
        return 0;
    if (mode == SweepMode::Grid) {
        std::size_t n = 1;
        for (std::size_t s : sizes) {
            if (s == 0)
                return 0;
            if (n > std::numeric_limits<std::size_t>::max() / s)
                return std::numeric_limits<std::size_t>::max();
            n *= s;
        }
        return n;
    }
    std::size_t shortest = std::numeric_limits<std::size_t>::max();
    std::size_t longest = 0;
    for (std::size_t s : sizes) {
        if (s == 0)
            return 0;
        if (s == 1)
            continue; // broadcast
        shortest = std::min(shortest, s);
        longest = std::max(longest, s);
    }
    if (longest == 0)
        return 1; // every list has one value
    if (warning && shortest != longest)
        *warning = QObject::tr("Lists differ in length (%1 to %2): zip stops at the shortest")
                       .arg(shortest)
                       .arg(longest);
    return shortest;
}

std::optional<std::vector<std::vector<Value>>> buildSweep(
    const std::vector<std::vector<Value>> &lists, SweepMode mode, std::size_t limit, QString *error)
{
    std::vector<std::size_t> sizes;
    sizes.reserve(lists.size());
    for (const auto &l : lists)
        sizes.push_back(l.size());
    const std::size_t count = sweepCount(sizes, mode);
    if (count > limit) {
        if (error)
            *error
                = QObject::tr("This sweep makes %1 tasks; the limit is %2").arg(count).arg(limit);
        return std::nullopt;
    }
    std::vector<std::vector<Value>> out;
    out.reserve(count);
    if (mode == SweepMode::Zip) {
        for (std::size_t i = 0; i < count; ++i) {
            std::vector<Value> args;
            args.reserve(lists.size());
            for (const auto &l : lists)
                args.push_back(l.size() == 1 ? l[0] : l[i]);
            out.push_back(std::move(args));
        }
        return out;
    }
    std::vector<std::size_t> idx(lists.size(), 0);
    for (std::size_t n = 0; n < count; ++n) {
        std::vector<Value> args;
        args.reserve(lists.size());
        for (std::size_t p = 0; p < lists.size(); ++p)
            args.push_back(lists[p][idx[p]]);
        out.push_back(std::move(args));
        // Odometer: the last parameter varies fastest.
        for (std::size_t p = lists.size(); p-- > 0;) {
            if (++idx[p] < lists[p].size())
                break;
            idx[p] = 0;
        }
    }
    return out;
}

} // namespace taskbench::gui
