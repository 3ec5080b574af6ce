// The engine's clocks (see clock_p.h).
#include "util/clock_p.h"

#include <chrono>

namespace taskbench {

std::int64_t wallClockUs()
{
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace taskbench

namespace taskbench::detail {

std::int64_t steadyUs()
{
    using namespace std::chrono;
    return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

} // namespace taskbench::detail
