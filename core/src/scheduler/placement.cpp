// Placement policy (see placement.h): queue depth from a function's mean duration, and the
// choice of a worker by locality, then load.
#include "scheduler/placement.h"

#include <algorithm>

namespace taskbench::detail::placement {

std::size_t queueDepth(double meanUs)
{
    return meanUs < 1000.0 ? std::size_t(std::clamp(2000.0 / std::max(meanUs, 1.0), 2.0, 256.0))
                           : 1;
}

std::size_t choose(std::span<const Candidate> candidates, std::size_t depth)
{
    std::size_t best = kNone;
    double bestLoad = 0;
    std::uint64_t bestLocal = 0;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const Candidate &c = candidates[i];
        if (c.outstanding >= std::size_t(c.threads) * depth)
            continue;
        const double load = double(c.outstanding) / c.threads;
        if (best == kNone || c.localBytes > bestLocal
            || (c.localBytes == bestLocal && load < bestLoad)) {
            best = i;
            bestLoad = load;
            bestLocal = c.localBytes;
        }
    }
    return best;
}

} // namespace taskbench::detail::placement
