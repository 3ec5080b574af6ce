// The clock of every timestamp users see: wall-clock microseconds since the Unix epoch, as
// in events, stories, history rows and the task stream's "now". One definition, so the GUI,
// the history and the engine agree to the microsecond. (The engine's steady clock for
// timers and timeouts stays private: nothing outside it measures intervals with it.)
#pragma once

#include <cstdint>

namespace taskbench {

std::int64_t wallClockUs();

} // namespace taskbench
