// The function table and the check of a call's arguments against a function's parameters.
//
// bindArguments runs on the submitting thread for every submitted task (a map of a million
// inputs binds a million times), so the parameter type strings the SDK produced ("int",
// "list[float]", "map[str, optional[int]]") are interpreted in place, without building a
// type tree, and the messages are only assembled on failure.
#include "taskbench/functionregistry.h"

#include "taskbench/valuecodec.h"

#include <algorithm>
#include <cmath>

namespace taskbench {

namespace {

/// Why a value does not fit a type: the path inside the parameter and the two type names.
struct Mismatch
{
    std::string path;
    std::string expected;
    std::string actual;
};

/// The text between the outer brackets of "name[...]", or nullopt if type is not that form.
std::optional<std::string_view> bracketArgument(std::string_view type, std::string_view name)
{
    if (type.size() < name.size() + 2 || type.substr(0, name.size()) != name
        || type[name.size()] != '[' || type.back() != ']')
        return std::nullopt;
    return type.substr(name.size() + 1, type.size() - name.size() - 2);
}

/// Checks v against a type name produced by sdk.h. Future references fit anything (they
/// are checked when the task runs, against the actual result). An unknown type name is
/// accepted: a newer SDK may know types this engine does not, and the SDK's own conversion
/// still checks the call.
bool fits(const Value &v, std::string_view type, std::string &path, Mismatch &why)
{
    if (v.isRef() || type == "any")
        return true;
    const auto mismatch = [&](std::string_view expected) {
        why = Mismatch{path, std::string(expected), v.kindName()};
        return false;
    };
    if (type == "int") {
        if (v.isInt())
            return true;
        // JSON reads an integer literal beyond 64 bits as a float; "got float" would puzzle
        // whoever typed 99999999999999999999.
        if (v.isDouble() && std::isfinite(v.toDouble()) && std::trunc(v.toDouble()) == v.toDouble()
            && std::fabs(v.toDouble()) >= 0x1p63) {
            why = Mismatch{path, "int", "an integer outside the 64-bit range"};
            return false;
        }
        return mismatch(type);
    }
    if (type == "float")
        return v.isNumber() || mismatch(type);
    if (type == "str")
        return v.isString() || mismatch(type);
    if (type == "bool")
        return v.isBool() || mismatch(type);
    if (type == "bytes")
        return v.isBytes() || mismatch(type);
    if (type == "null")
        return v.isNull() || mismatch(type);
    if (const auto inner = bracketArgument(type, "optional"))
        return v.isNull() || fits(v, *inner, path, why);
    if (const auto element = bracketArgument(type, "list")) {
        if (!v.isList())
            return mismatch("list");
        const std::size_t base = path.size();
        std::size_t index = 0;
        for (const Value &item : v.toList()) {
            if (!item.isRef()) {
                path += '[';
                path += std::to_string(index);
                path += ']';
                if (!fits(item, *element, path, why))
                    return false;
                path.resize(base);
            }
            ++index;
        }
        return true;
    }
    if (const auto inner = bracketArgument(type, "map")) {
        if (!v.isMap())
            return mismatch("map");
        constexpr std::string_view keyPrefix = "str, ";
        const std::string_view element = inner->substr(0, keyPrefix.size()) == keyPrefix
                                             ? inner->substr(keyPrefix.size())
                                             : std::string_view("any");
        const std::size_t base = path.size();
        for (const auto &[key, item] : v.toMap()) {
            if (item.isRef())
                continue;
            path += "[\"";
            path += key;
            path += "\"]";
            if (!fits(item, element, path, why))
                return false;
            path.resize(base);
        }
        return true;
    }
    return true;
}

std::string plural(std::size_t n, const char *word)
{
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

} // namespace

std::string FunctionInfo::signature() const
{
    std::string text = name.empty() ? qualifiedName : name;
    text += '(';
    for (std::size_t i = 0; i < params.size(); ++i) {
        const sdk::ParamSpec &p = params[i];
        if (i > 0)
            text += ", ";
        text += p.name;
        text += ": ";
        text += p.type;
        if (p.hasDefault) {
            text += " = ";
            text += repr(p.defaultValue, 40);
        }
    }
    text += ") -> ";
    text += resultType.empty() ? "any" : resultType;
    return text;
}

void FunctionRegistry::add(FunctionInfo info)
{
    auto ptr = std::make_shared<const FunctionInfo>(std::move(info));
    std::lock_guard lock(m_mutex);
    m_functions[ptr->qualifiedName] = std::move(ptr);
}

void FunctionRegistry::removePlugin(const std::string &plugin)
{
    // Entries are destroyed after the lock is released: the last reference to a plugin
    // library may unload it, which must not happen under our mutex.
    std::vector<FunctionPtr> removed;
    {
        std::lock_guard lock(m_mutex);
        for (auto it = m_functions.begin(); it != m_functions.end();) {
            if (it->second->plugin == plugin) {
                removed.push_back(std::move(it->second));
                it = m_functions.erase(it);
            } else {
                ++it;
            }
        }
    }
}

FunctionPtr FunctionRegistry::find(std::string_view qualifiedName) const
{
    // The map's key type is std::string; a per-thread buffer avoids an allocation for
    // every look-up of a name too long for the small-string buffer.
    thread_local std::string key;
    key.assign(qualifiedName);
    std::lock_guard lock(m_mutex);
    const auto it = m_functions.find(key);
    return it == m_functions.end() ? nullptr : it->second;
}

std::vector<FunctionPtr> FunctionRegistry::all() const
{
    std::vector<FunctionPtr> out;
    {
        std::lock_guard lock(m_mutex);
        out.reserve(m_functions.size());
        for (const auto &entry : m_functions)
            out.push_back(entry.second);
    }
    std::sort(out.begin(), out.end(), [](const FunctionPtr &a, const FunctionPtr &b) {
        return a->qualifiedName < b->qualifiedName;
    });
    return out;
}

std::optional<std::vector<Value>> FunctionRegistry::bindArguments(const FunctionInfo &fn,
                                                                  std::vector<Value> args,
                                                                  const Value::Map &kwargs,
                                                                  std::string *error)
{
    const std::string &fname = fn.qualifiedName.empty() ? fn.name : fn.qualifiedName;
    const auto fail = [&](const std::string &message) -> std::optional<std::vector<Value>> {
        if (error)
            *error = fname + ": " + message;
        return std::nullopt;
    };
    const std::size_t count = fn.params.size();
    if (args.size() > count) {
        std::string names;
        for (const sdk::ParamSpec &p : fn.params)
            names += (names.empty() ? "" : ", ") + p.name;
        return fail("takes " + plural(count, "argument")
                    + (count ? " (" + names + ")" : std::string()) + " but "
                    + std::to_string(args.size()) + (args.size() == 1 ? " was" : " were")
                    + " given");
    }
    const std::size_t positional = args.size();
    args.resize(count);
    std::vector<bool> given(count, false);
    std::fill_n(given.begin(), positional, true);
    for (const auto &[name, value] : kwargs) {
        const auto it = std::find_if(fn.params.begin(),
                                     fn.params.end(),
                                     [&](const sdk::ParamSpec &p) { return p.name == name; });
        if (it == fn.params.end())
            return fail("unknown parameter '" + name + "'");
        const auto index = std::size_t(it - fn.params.begin());
        if (given[index])
            return fail("parameter '" + name + "' given both by position and by name");
        args[index] = value;
        given[index] = true;
    }
    std::string path;
    Mismatch why;
    for (std::size_t i = 0; i < count; ++i) {
        const sdk::ParamSpec &p = fn.params[i];
        if (!given[i]) {
            if (!p.hasDefault)
                return fail("missing argument for parameter '" + p.name + "'");
            args[i] = p.defaultValue;
            continue;
        }
        path.clear();
        if (!fits(args[i], p.type, path, why))
            return fail("parameter '" + p.name + "'" + why.path + ": expected " + why.expected
                        + ", got " + why.actual);
    }
    return args;
}

} // namespace taskbench
