// The Taskbench plugin SDK: the one header a plugin author includes.
//
// A plugin is a shared library with plain C++ task functions. The author registers each
// function with a name, parameter names (optionally with defaults) and a doc string; the SDK
// derives parameter and result types from the C++ signature and converts Values in and out.
// A conversion mismatch throws sdk::ArgumentError naming the parameter, the expected and the
// actual type; any exception thrown by a task becomes the future's error.
//
// Example (a complete plugin):
// @code
//   #include <taskbench/sdk.h>
//   static std::int64_t inc(std::int64_t x) { return x + 1; }
//   static double scale(double x, double factor) { return x * factor; }
//   TASKBENCH_PLUGIN("example", "1.0", "Small example plugin")
//   {
//       plugin.def("inc", &inc, {"x"}, "Add one to x.");
//       plugin.def("scale", &scale, {"x", taskbench::sdk::Param("factor", 2.0)}, "x * factor.");
//   }
// @endcode
//
// Context: a function may take `taskbench::sdk::TaskContext &` as any parameter (it is not a
// user-visible parameter) to check for cooperative cancellation, report progress and write
// log lines that are kept with the task.
//
// Thread safety: task functions may run concurrently on several worker threads; they must
// not share mutable state without synchronisation. Registration runs once, on load.
//
// ABI: TASKBENCH_SDK_VERSION changes whenever anything in this header (or value.h) changes
// layout; the loader refuses a plugin built against another version. Plugins must be built
// with the same C++ standard library as the host (they exchange std:: types).
#pragma once

#include "taskbench/value.h"

#include <boost/dll/alias.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

/// The SDK ABI version. The loader accepts only plugins built with exactly this version.
#define TASKBENCH_SDK_VERSION 2
#define TASKBENCH_SDK_VERSION_STRING "2.0"

namespace taskbench::sdk {

/// What a running task can ask of the engine. Every virtual has a safe default so that a
/// function can also be called outside the engine (unit tests of a plugin).
class TaskContext
{
public:
    virtual ~TaskContext() = default;
    /// True once the task was cancelled (or timed out); return early when it is.
    virtual bool cancelled() const { return false; }
    /// Report progress in [0, 1], with an optional message.
    virtual void progress(double fraction, std::string_view message = {})
    {
        (void)fraction;
        (void)message;
    }
    /// A log line kept with this task (and sent to the log stream).
    virtual void log(std::string_view line) { (void)line; }
    /// 1 for the first attempt, 2 for the first retry, ...
    virtual int attempt() const { return 1; }
    /// The task's key.
    virtual std::string key() const { return {}; }
};

/// An exception with an explicit error type name ("ValueError", "IOError", ...). Throw it
/// from a task to control the type shown to users; any other exception shows its C++ type.
class TaskException : public std::runtime_error
{
public:
    TaskException(std::string type, const std::string &message)
        : std::runtime_error(message)
        , m_type(std::move(type))
    {}
    const std::string &type() const { return m_type; }

private:
    std::string m_type;
};

/// An argument did not match the parameter's type (shown as "TypeError").
class ArgumentError : public TaskException
{
public:
    explicit ArgumentError(const std::string &message)
        : TaskException("TypeError", message)
    {}
};

/// A parameter: its name and, optionally, a default value.
struct Param
{
    Param(const char *n)
        : name(n)
    {}
    Param(std::string n)
        : name(std::move(n))
    {}
    Param(std::string n, Value def)
        : name(std::move(n))
        , defaultValue(std::move(def))
        , hasDefault(true)
    {}
    std::string name;
    Value defaultValue;
    bool hasDefault = false;
};

/// A parameter as the engine sees it: name, type name ("int", "list[float]", "any") and
/// default.
struct ParamSpec
{
    std::string name;
    std::string type;
    bool hasDefault = false;
    Value defaultValue;
};

/// Calls the function with converted arguments (one per ParamSpec, defaults already filled).
using Invoker = std::function<Value(const std::vector<Value> &args, TaskContext &ctx)>;

/// What the engine may assume about a function beyond its signature (the last argument of
/// Plugin::def, e.g. `{.cacheable = false}`).
struct FunctionTraits
{
    /// The result depends on the arguments alone, and calling it does nothing else: a
    /// finished result may be served from the result cache in a later run instead of calling
    /// it again. Set false for a function that reads or writes anything else (files, the
    /// clock, the network, a database): its calls then always run. Within one session a pure
    /// call (same function and arguments) is still one future, as in Dask; `pure=False` at
    /// submit makes every call a task of its own.
    bool cacheable = true;
};

struct FunctionSpec
{
    std::string name;
    std::string doc;
    std::vector<ParamSpec> params;
    std::string resultType;
    Invoker invoke;
    FunctionTraits traits; ///< since SDK 2
};

struct Manifest
{
    int sdkVersion = TASKBENCH_SDK_VERSION;
    std::string name;
    std::string version;
    std::string description;
    std::vector<FunctionSpec> functions;
};

/// The plain-data record the exported entry point returns; the loader reads magic and
/// sdkVersion before it touches any C++ type, then calls build() (which may throw).
struct PluginEntry
{
    std::uint32_t magic;
    std::uint32_t sdkVersion;
    Manifest (*build)();
};

inline constexpr std::uint32_t kPluginMagic = 0x54424E43; // "TBNC"
/// The exported alias the loader looks for.
inline constexpr const char *kEntryPointName = "taskbench_plugin_entry";

// ---------------------------------------------------------------------------------------
// Conversions between Value and C++ types.

/// The supported way to use your own type as a parameter or result: specialise this
/// template for it (in namespace taskbench::sdk, before the plugin's def() calls). The SDK
/// looks here for every type it does not convert itself (the built-in types below cannot be
/// overridden), also inside std::vector, std::map and std::optional.
///
/// A specialisation provides three static functions:
/// - `std::string typeName()`: the type as the engine checks arguments before a run and as
///   `plugins` lists it. Use the SDK's names ("map[str, float]", "list[int]", ...) for
///   an early check and a matching input field in the GUI, or "any" for none.
/// - `T from(const Value &v, const std::string &where)`: the conversion of an argument;
///   throw ArgumentError (its message prefixed with `where`, "parameter 'p'") on a mismatch.
/// - `Value to(T t)`: the conversion of a result.
///
/// Example (a point travels as the map {"x": 1.0, "y": 2.0}):
/// @code
///   struct Point { double x = 0, y = 0; };
///
///   namespace taskbench::sdk {
///   template<>
///   struct Convert<Point>
///   {
///       static std::string typeName() { return "map[str, float]"; }
///       static Point from(const Value &v, const std::string &where)
///       {
///           const auto coord = [&](const char *name) {
///               if (v.isMap())
///                   if (auto it = v.toMap().find(name); it != v.toMap().end()
///                                                       && it->second.isNumber())
///                       return it->second.toDouble();
///               throw ArgumentError(where + ": expected a map with numbers x and y");
///           };
///           return Point{coord("x"), coord("y")};
///       }
///       static Value to(const Point &p) { return Value(Value::Map{{"x", p.x}, {"y", p.y}}); }
///   };
///   } // namespace taskbench::sdk
///
///   static Point mid(Point a, Point b) { return {(a.x + b.x) / 2, (a.y + b.y) / 2}; }
///   // plugin.def("mid", &mid, {"a", "b"}, "The point halfway between a and b.");
/// @endcode
///
/// The second parameter is for SFINAE: `template<class T> struct Convert<T,
/// std::enable_if_t<std::is_enum_v<T>>>` covers every enum at once. Thread safety: from()
/// and to() run on worker threads, concurrently; keep them free of shared mutable state.
template<class T, class Enable = void>
struct Convert; // no specialisation for T: a compile error names T

namespace detail {

[[noreturn]] inline void mismatch(const std::string &where, const char *expected, const Value &v)
{
    throw ArgumentError(where + ": expected " + expected + ", got " + v.kindName());
}

/// The SDK's own conversions; any other type is forwarded to the public sdk::Convert.
template<class T, class = void>
struct Convert : sdk::Convert<T>
{};

template<>
struct Convert<Value>
{
    static std::string typeName() { return "any"; }
    static Value from(const Value &v, const std::string &) { return v; }
    static Value to(Value v) { return v; }
};

template<>
struct Convert<bool>
{
    static std::string typeName() { return "bool"; }
    static bool from(const Value &v, const std::string &where)
    {
        if (!v.isBool())
            mismatch(where, "bool", v);
        return v.toBool();
    }
    static Value to(bool b) { return Value(b); }
};

template<class T>
struct Convert<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
{
    static std::string typeName() { return "int"; }
    static T from(const Value &v, const std::string &where)
    {
        if (!v.isInt())
            mismatch(where, "int", v);
        const std::int64_t i = v.toInt();
        if constexpr (std::is_signed_v<T>) {
            if (i < std::int64_t(std::numeric_limits<T>::min())
                || i > std::int64_t(std::numeric_limits<T>::max()))
                throw ArgumentError(where + ": value " + std::to_string(i) + " is out of range");
        } else {
            if (i < 0 || std::uint64_t(i) > std::uint64_t(std::numeric_limits<T>::max()))
                throw ArgumentError(where + ": value " + std::to_string(i) + " is out of range");
        }
        return T(i);
    }
    static Value to(T i)
    {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
            if (i > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
                throw ArgumentError("result " + std::to_string(i)
                                    + " does not fit in a 64-bit signed int");
        }
        return Value(static_cast<long long>(i));
    }
};

template<class T>
struct Convert<T, std::enable_if_t<std::is_floating_point_v<T>>>
{
    static std::string typeName() { return "float"; }
    static T from(const Value &v, const std::string &where)
    {
        if (!v.isNumber())
            mismatch(where, "float", v);
        return T(v.toDouble());
    }
    static Value to(T d) { return Value(double(d)); }
};

template<>
struct Convert<std::string>
{
    static std::string typeName() { return "str"; }
    static std::string from(const Value &v, const std::string &where)
    {
        if (!v.isString())
            mismatch(where, "str", v);
        return v.toString();
    }
    static Value to(std::string s) { return Value(std::move(s)); }
};

template<>
struct Convert<Bytes>
{
    static std::string typeName() { return "bytes"; }
    static Bytes from(const Value &v, const std::string &where)
    {
        if (!v.isBytes())
            mismatch(where, "bytes", v);
        return v.toBytes();
    }
    static Value to(Bytes b) { return Value(std::move(b)); }
};

template<class T>
struct Convert<std::vector<T>>
{
    static std::string typeName() { return "list[" + Convert<T>::typeName() + "]"; }
    static std::vector<T> from(const Value &v, const std::string &where)
    {
        if (!v.isList())
            mismatch(where, "list", v);
        std::vector<T> out;
        out.reserve(v.toList().size());
        std::size_t i = 0;
        for (const Value &item : v.toList())
            out.push_back(Convert<T>::from(item, where + "[" + std::to_string(i++) + "]"));
        return out;
    }
    static Value to(std::vector<T> items)
    {
        Value::List out;
        out.reserve(items.size());
        for (auto &&item : items) // auto&&: std::vector<bool> yields proxies
            out.push_back(Convert<T>::to(std::move(item)));
        return Value(std::move(out));
    }
};

template<class MapT, class T>
struct ConvertMap
{
    static std::string typeName() { return "map[str, " + Convert<T>::typeName() + "]"; }
    static MapT from(const Value &v, const std::string &where)
    {
        if (!v.isMap())
            mismatch(where, "map", v);
        MapT out;
        for (const auto &[k, item] : v.toMap())
            out.emplace(k, Convert<T>::from(item, where + "[\"" + k + "\"]"));
        return out;
    }
    static Value to(MapT items)
    {
        Value::Map out;
        for (auto &[k, item] : items)
            out.emplace(k, Convert<T>::to(std::move(item)));
        return Value(std::move(out));
    }
};

template<class T, class C, class A>
struct Convert<std::map<std::string, T, C, A>> : ConvertMap<std::map<std::string, T, C, A>, T>
{};
template<class T, class H, class E, class A>
struct Convert<std::unordered_map<std::string, T, H, E, A>>
    : ConvertMap<std::unordered_map<std::string, T, H, E, A>, T>
{};

template<class T>
struct Convert<std::optional<T>>
{
    static std::string typeName() { return "optional[" + Convert<T>::typeName() + "]"; }
    static std::optional<T> from(const Value &v, const std::string &where)
    {
        if (v.isNull())
            return std::nullopt;
        return Convert<T>::from(v, where);
    }
    static Value to(std::optional<T> o) { return o ? Convert<T>::to(std::move(*o)) : Value(); }
};

template<class A>
inline constexpr bool isContext = std::is_same_v<std::decay_t<A>, TaskContext>;

/// Holds one converted argument (or the context) until the call.
template<class A, class = void>
struct ArgHolder
{
    std::decay_t<A> value;
    std::decay_t<A> &get() { return value; }
};
template<class A>
struct ArgHolder<A, std::enable_if_t<isContext<A>>>
{
    TaskContext *ctx;
    TaskContext &get() { return *ctx; }
};

template<class... Args>
constexpr std::size_t paramCount()
{
    return (std::size_t(0) + ... + (isContext<Args> ? 0 : 1));
}

/// Index among the user-visible parameters of the I-th C++ argument.
template<std::size_t I, class... Args>
constexpr std::size_t paramIndex()
{
    constexpr bool ctx[] = {isContext<Args>..., false};
    std::size_t n = 0;
    for (std::size_t k = 0; k < I; ++k)
        n += ctx[k] ? 0 : 1;
    return n;
}

template<class R, class... Args>
struct Binder
{
    template<class F, std::size_t... I>
    static Value call(F &f,
                      const std::vector<Value> &args,
                      TaskContext &ctx,
                      const std::vector<std::string> &names,
                      std::index_sequence<I...>)
    {
        // Braced initialisation converts left to right, so the first bad parameter is named.
        std::tuple<ArgHolder<Args>...> holders{
            makeHolder<Args, paramIndex<I, Args...>()>(args, ctx, names)...};
        if constexpr (std::is_void_v<R>) {
            std::apply([&](auto &...h) { f(h.get()...); }, holders);
            return Value();
        } else {
            return Convert<std::decay_t<R>>::to(
                std::apply([&](auto &...h) -> R { return f(h.get()...); }, holders));
        }
    }

    template<class A, std::size_t P>
    static ArgHolder<A> makeHolder(const std::vector<Value> &args,
                                   TaskContext &ctx,
                                   const std::vector<std::string> &names)
    {
        if constexpr (isContext<A>) {
            return ArgHolder<A>{&ctx};
        } else {
            return ArgHolder<A>{
                Convert<std::decay_t<A>>::from(args[P], "parameter '" + names[P] + "'")};
        }
    }
};

template<class T>
struct Signature : Signature<decltype(&T::operator())>
{};
template<class R, class... Args>
struct Signature<R (*)(Args...)>
{
    using Result = R;
    using Binder = detail::Binder<R, Args...>;
    static constexpr std::size_t count = paramCount<Args...>();
    static std::vector<std::string> paramTypes()
    {
        std::vector<std::string> types;
        (
            [&] {
                if constexpr (!isContext<Args>)
                    types.push_back(Convert<std::decay_t<Args>>::typeName());
            }(),
            ...);
        return types;
    }
    static std::string resultType()
    {
        if constexpr (std::is_void_v<R>)
            return "null";
        else
            return Convert<std::decay_t<R>>::typeName();
    }
    template<class F>
    static Value invoke(F &f,
                        const std::vector<Value> &args,
                        TaskContext &ctx,
                        const std::vector<std::string> &names)
    {
        return Binder::call(f, args, ctx, names, std::index_sequence_for<Args...>{});
    }
};
template<class R, class... Args>
struct Signature<R (&)(Args...)> : Signature<R (*)(Args...)>
{};
template<class R, class... Args>
struct Signature<R(Args...)> : Signature<R (*)(Args...)>
{};
template<class C, class R, class... Args>
struct Signature<R (C::*)(Args...) const> : Signature<R (*)(Args...)>
{};
template<class C, class R, class... Args>
struct Signature<R (C::*)(Args...)> : Signature<R (*)(Args...)>
{};
// noexcept is part of the type since C++17: without these, noexcept functions and lambdas
// would not compile.
template<class R, class... Args>
struct Signature<R (*)(Args...) noexcept> : Signature<R (*)(Args...)>
{};
template<class C, class R, class... Args>
struct Signature<R (C::*)(Args...) const noexcept> : Signature<R (*)(Args...)>
{};
template<class C, class R, class... Args>
struct Signature<R (C::*)(Args...) noexcept> : Signature<R (*)(Args...)>
{};

} // namespace detail

/// Builds a plugin's manifest. Used inside TASKBENCH_PLUGIN as `plugin`.
class Plugin
{
public:
    Plugin(std::string name, std::string version, std::string description = {})
    {
        m_manifest.name = std::move(name);
        m_manifest.version = std::move(version);
        m_manifest.description = std::move(description);
    }

    /// Registers `fn` (function pointer or non-generic lambda) as `name`. `params` names
    /// every user-visible parameter in order (defaults allowed at the end). Throws
    /// std::invalid_argument when the names do not match the signature. `traits` says what
    /// else the engine may assume (e.g. `{.cacheable = false}` for a function with side
    /// effects).
    template<class F>
    Plugin &def(std::string name,
                F fn,
                std::vector<Param> params,
                std::string doc = {},
                FunctionTraits traits = {})
    {
        using Sig = detail::Signature<std::decay_t<F>>;
        if (name.empty())
            throw std::invalid_argument("function name is empty");
        if (params.size() != Sig::count)
            throw std::invalid_argument("function '" + name + "': " + std::to_string(Sig::count)
                                        + " parameters but " + std::to_string(params.size())
                                        + " names");
        const std::vector<std::string> types = Sig::paramTypes();
        FunctionSpec spec;
        spec.name = std::move(name);
        spec.doc = std::move(doc);
        spec.resultType = Sig::resultType();
        spec.traits = traits;
        std::vector<std::string> names;
        bool sawDefault = false;
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (params[i].name.empty())
                throw std::invalid_argument("function '" + spec.name + "': parameter "
                                            + std::to_string(i) + " has no name");
            if (sawDefault && !params[i].hasDefault)
                throw std::invalid_argument("function '" + spec.name + "': parameter '"
                                            + params[i].name + "' without default follows one "
                                            + "with a default");
            sawDefault = sawDefault || params[i].hasDefault;
            names.push_back(params[i].name);
            spec.params.push_back(
                {params[i].name, types[i], params[i].hasDefault, params[i].defaultValue});
        }
        spec.invoke = [fn, names](const std::vector<Value> &args, TaskContext &ctx) mutable {
            if (args.size() != names.size())
                throw ArgumentError("expected " + std::to_string(names.size())
                                    + " arguments, got " + std::to_string(args.size()));
            return Sig::invoke(fn, args, ctx, names);
        };
        m_manifest.functions.push_back(std::move(spec));
        return *this;
    }

    Manifest take() { return std::move(m_manifest); }

private:
    Manifest m_manifest;
};

} // namespace taskbench::sdk

/// Declares the plugin and opens the body of its registration function, in which `plugin`
/// (a taskbench::sdk::Plugin&) registers functions. Use once per library.
#define TASKBENCH_PLUGIN(NAME, VERSION, DESCRIPTION)                                             \
    static void taskbench_register_functions(::taskbench::sdk::Plugin &plugin);                  \
    static ::taskbench::sdk::Manifest taskbench_build_manifest()                                 \
    {                                                                                            \
        ::taskbench::sdk::Plugin plugin((NAME), (VERSION), (DESCRIPTION));                       \
        taskbench_register_functions(plugin);                                                    \
        return plugin.take();                                                                    \
    }                                                                                            \
    static const ::taskbench::sdk::PluginEntry *taskbench_plugin_entry_impl()                    \
    {                                                                                            \
        static const ::taskbench::sdk::PluginEntry entry{                                        \
            ::taskbench::sdk::kPluginMagic, TASKBENCH_SDK_VERSION, &taskbench_build_manifest};   \
        return &entry;                                                                           \
    }                                                                                            \
    BOOST_DLL_ALIAS(taskbench_plugin_entry_impl, taskbench_plugin_entry)                         \
    static void taskbench_register_functions(::taskbench::sdk::Plugin &plugin)
