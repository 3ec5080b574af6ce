// The value type that travels through Taskbench: task arguments and results.
//
// Header-only and standard-library-only on purpose: plugins include it through the SDK and
// must not need Qt or any engine internals. A Value is null, bool, 64-bit int, double,
// string, bytes, list, map (string keys, kept sorted so equal maps encode equally) or a
// reference to a future (by key), nested anywhere in lists and maps. Serialization (CBOR),
// JSON conversion and repr live in the core library (taskbench/valuecodec.h).
//
// Thread safety: a Value is a plain value type; distinct objects may be used from distinct
// threads, a shared const object may be read concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace taskbench {

/// A reference to a future, by key. The engine turns it into a dependency.
struct FutureRef
{
    std::string key;
    bool operator==(const FutureRef &) const = default;
};

/// Raw bytes (distinct from text strings, as in CBOR).
struct Bytes
{
    std::vector<std::uint8_t> data;
    bool operator==(const Bytes &) const = default;
};

class Value
{
public:
    using List = std::vector<Value>;
    using Map = std::map<std::string, Value, std::less<>>;

    /// The order of the alternatives; never reorder (serialization and hashing use it).
    enum class Type : std::uint8_t { Null, Bool, Int, Double, String, Bytes, List, Map, Ref };

    Value() = default;
    Value(std::nullptr_t) {}
    Value(bool b) : m_v(b) {}
    Value(int i) : m_v(std::int64_t(i)) {}
    Value(long i) : m_v(std::int64_t(i)) {}
    Value(long long i) : m_v(std::int64_t(i)) {}
    Value(unsigned i) : m_v(std::int64_t(i)) {}
    Value(double d) : m_v(d) {}
    Value(const char *s) : m_v(std::string(s)) {}
    Value(std::string s) : m_v(std::move(s)) {}
    Value(std::string_view s) : m_v(std::string(s)) {}
    Value(taskbench::Bytes b) : m_v(std::move(b)) {}
    Value(List l) : m_v(std::move(l)) {}
    Value(Map m) : m_v(std::move(m)) {}
    Value(FutureRef r) : m_v(std::move(r)) {}

    static Value list(std::initializer_list<Value> items) { return Value(List(items)); }
    static Value ref(std::string key) { return Value(FutureRef{std::move(key)}); }

    Type type() const { return Type(m_v.index()); }
    bool isNull() const { return type() == Type::Null; }
    bool isBool() const { return type() == Type::Bool; }
    bool isInt() const { return type() == Type::Int; }
    bool isDouble() const { return type() == Type::Double; }
    bool isNumber() const { return isInt() || isDouble(); }
    bool isString() const { return type() == Type::String; }
    bool isBytes() const { return type() == Type::Bytes; }
    bool isList() const { return type() == Type::List; }
    bool isMap() const { return type() == Type::Map; }
    bool isRef() const { return type() == Type::Ref; }

    // Accessors: the caller checks the type first (they throw std::bad_variant_access
    // otherwise, never undefined behaviour).
    bool toBool() const { return std::get<bool>(m_v); }
    std::int64_t toInt() const { return std::get<std::int64_t>(m_v); }
    /// An int widens to double; anything else throws.
    double toDouble() const
    {
        return isInt() ? double(std::get<std::int64_t>(m_v)) : std::get<double>(m_v);
    }
    const std::string &toString() const { return std::get<std::string>(m_v); }
    const taskbench::Bytes &toBytes() const { return std::get<taskbench::Bytes>(m_v); }
    const List &toList() const { return std::get<List>(m_v); }
    List &toList() { return std::get<List>(m_v); }
    const Map &toMap() const { return std::get<Map>(m_v); }
    Map &toMap() { return std::get<Map>(m_v); }
    const FutureRef &toRef() const { return std::get<FutureRef>(m_v); }

    /// True if a future reference occurs anywhere inside (self included).
    bool containsRef() const
    {
        switch (type()) {
        case Type::Ref:
            return true;
        case Type::List:
            for (const Value &v : toList())
                if (v.containsRef())
                    return true;
            return false;
        case Type::Map:
            for (const auto &kv : toMap())
                if (kv.second.containsRef())
                    return true;
            return false;
        default:
            return false;
        }
    }

    /// Calls fn(const FutureRef&) for every reference inside, depth first, in order.
    template<class Fn>
    void forEachRef(Fn &&fn) const
    {
        switch (type()) {
        case Type::Ref:
            fn(toRef());
            break;
        case Type::List:
            for (const Value &v : toList())
                v.forEachRef(fn);
            break;
        case Type::Map:
            for (const auto &kv : toMap())
                kv.second.forEachRef(fn);
            break;
        default:
            break;
        }
    }

    bool operator==(const Value &o) const { return m_v == o.m_v; }

    /// Display type name: "int", "str", "list[3]", "map[2]", "bytes[16]", "future".
    std::string typeName() const
    {
        switch (type()) {
        case Type::Null:
            return "null";
        case Type::Bool:
            return "bool";
        case Type::Int:
            return "int";
        case Type::Double:
            return "float";
        case Type::String:
            return "str";
        case Type::Bytes:
            return "bytes[" + std::to_string(toBytes().data.size()) + "]";
        case Type::List:
            return "list[" + std::to_string(toList().size()) + "]";
        case Type::Map:
            return "map[" + std::to_string(toMap().size()) + "]";
        case Type::Ref:
            return "future";
        }
        return "?";
    }

    /// The type name without sizes ("list", not "list[3]"), for error messages.
    static const char *kindName(Type t)
    {
        static const char *const names[]
            = {"null", "bool", "int", "float", "str", "bytes", "list", "map", "future"};
        return names[int(t)];
    }
    const char *kindName() const { return kindName(type()); }

private:
    std::variant<std::monostate,
                 bool,
                 std::int64_t,
                 double,
                 std::string,
                 taskbench::Bytes,
                 List,
                 Map,
                 FutureRef>
        m_v;
};

} // namespace taskbench
