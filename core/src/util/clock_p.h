// The two clocks of the engine: wall-clock microseconds for what users see (event and story
// times, a task's start and end), steady microseconds for what must not jump (timers,
// timeouts, intervals).
#pragma once

#include "taskbench/clock.h"

#include <cstdint>

namespace taskbench::detail {

using taskbench::wallClockUs; // public: the GUI and the history stamp with it too
std::int64_t steadyUs();

} // namespace taskbench::detail
