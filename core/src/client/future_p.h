// What Future and Client both check before touching a future's task record.
#pragma once

#include "taskbench/client.h"

#include <stdexcept>

namespace taskbench {

inline void requireValid(const Future &f)
{
    if (!f.valid())
        throw std::logic_error("invalid (empty or released) Future");
}

} // namespace taskbench
