// The two clocks of the engine: wall-clock microseconds for what users see (event and story
// times, a task's start and end), steady microseconds for what must not jump (timers,
// timeouts, intervals).
#pragma once

#include <cstdint>

namespace taskbench::detail {

std::int64_t wallClockUs();
std::int64_t steadyUs();

} // namespace taskbench::detail
