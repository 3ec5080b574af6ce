// Replacing the references inside a value (Value::ref, also nested in lists and maps) by what
// they stand for: the one walk over a value's references, for whoever resolves them (the
// worker process loop resolves "#<task id>" from its result store; the scheduler's argument
// resolution is the same walk and can use it too).
#pragma once

#include "taskbench/value.h"

#include <string>

namespace taskbench::detail {

/// Calls replace(key, slot) for every reference in v, where slot is the Value holding
/// Value::ref(key); replace assigns the replacement to slot and returns true, or returns false
/// to stop (replaceRefs then returns false). Parts without references are not visited.
template <class Replace>
bool replaceRefs(Value &v, Replace &&replace)
{
    if (v.isRef()) {
        const std::string key = v.toRef().key;
        return replace(key, v);
    }
    if (v.isList()) {
        for (Value &item : v.toList())
            if (item.containsRef() && !replaceRefs(item, replace))
                return false;
    } else if (v.isMap()) {
        for (auto &kv : v.toMap())
            if (kv.second.containsRef() && !replaceRefs(kv.second, replace))
                return false;
    }
    return true;
}

} // namespace taskbench::detail
