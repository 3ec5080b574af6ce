// Tests of the plugin SDK (sdk.h): argument and result conversions for every supported C++
// type, mismatch messages (parameter, expected and actual type, nested element paths),
// defaults, the task context, void results, exceptions, registration errors and the plugin
// entry point; and of the FunctionRegistry: signatures, look-up, replacement, concurrent use
// and bindArguments.
#include "taskbench/functionregistry.h"
#include "taskbench/sdk.h"

#include <atomic>
#include <limits>
#include <thread>

#include <QtTest>

using taskbench::Value;
namespace sdk = taskbench::sdk;

Q_DECLARE_METATYPE(taskbench::Value)

namespace {

Value map(std::initializer_list<std::pair<const std::string, Value>> entries)
{
    return Value(Value::Map(entries));
}

/// Registers fn alone and returns its spec.
template <class F>
sdk::FunctionSpec specOf(F fn, std::vector<sdk::Param> params)
{
    sdk::Plugin plugin("test", "1.0");
    plugin.def("f", fn, std::move(params));
    sdk::Manifest m = plugin.take();
    return std::move(m.functions.at(0));
}

/// Calls the spec with a default context; the message of an ArgumentError, or the result.
struct Outcome
{
    Value result;
    std::string error;
};

Outcome call(const sdk::FunctionSpec &spec, std::vector<Value> args)
{
    sdk::TaskContext ctx;
    try {
        return {spec.invoke(args, ctx), {}};
    } catch (const sdk::ArgumentError &e) {
        return {Value(), e.what()};
    }
}

/// A context that records what the task does with it.
class RecordingContext : public sdk::TaskContext
{
public:
    bool cancelled() const override { return m_cancelled; }
    void progress(double fraction, std::string_view message) override
    {
        m_progress.emplace_back(fraction, std::string(message));
    }
    void log(std::string_view line) override { m_lines.emplace_back(line); }
    int attempt() const override { return 3; }
    std::string key() const override { return "f-123"; }

    bool m_cancelled = false;
    std::vector<std::pair<double, std::string>> m_progress;
    std::vector<std::string> m_lines;
};

struct NotAnException
{
    int code;
};

std::int64_t inc(std::int64_t x)
{
    return x + 1;
}

std::int64_t noexceptInc(std::int64_t x) noexcept
{
    return x + 1;
}

double scale(double x, double factor)
{
    return x * factor;
}

/// A user type, converted through the public customisation point (as README shows).
struct Point
{
    double x = 0;
    double y = 0;
};

Point mid(Point a, Point b)
{
    return {(a.x + b.x) / 2, (a.y + b.y) / 2};
}

} // namespace

namespace taskbench::sdk {
template <>
struct Convert<Point>
{
    static std::string typeName() { return "map[str, float]"; }
    static Point from(const Value &v, const std::string &where)
    {
        const auto coord = [&](const char *name) {
            if (v.isMap())
                if (auto it = v.toMap().find(name); it != v.toMap().end() && it->second.isNumber())
                    return it->second.toDouble();
            throw ArgumentError(where + ": expected a map with numbers x and y");
        };
        return Point{coord("x"), coord("y")};
    }
    static Value to(const Point &p) { return Value(Value::Map{{"x", p.x}, {"y", p.y}}); }
};
} // namespace taskbench::sdk

// A whole plugin in this test executable, to check the entry point the macro generates.
TASKBENCH_PLUGIN("sdktest", "2.1", "SDK test plugin")
{
    plugin.def("inc", &inc, {"x"}, "Add one.");
    plugin.def("scale", &scale, {"x", sdk::Param("factor", 2.0)}, "x * factor.");
}

class tst_Sdk : public QObject
{
    Q_OBJECT

private slots:
    void test_convertsArguments_data();
    void test_convertsArguments();
    void test_typeNames();
    void test_userTypeThroughPublicConvert();
    void test_integerRanges_data();
    void test_integerRanges();
    void test_unsignedResultOutOfRange();
    void test_mismatchMessages_data();
    void test_mismatchMessages();
    void test_firstBadParameterIsNamed();
    void test_defaults();
    void test_contextIsNotAParameter();
    void test_voidResult();
    void test_exceptionsPropagate();
    void test_wrongArgumentCount();
    void test_defRefusesBadParameterLists();
    void test_lambdasAndFunctionKinds();
    void test_pluginEntryPoint();

    void test_signature();
    void test_registryFindReplaceRemove();
    void test_registryConcurrentUse();
    void test_bindArguments_data();
    void test_bindArguments();
    void test_bindArgumentsKeepsRefsForLater();
};

void tst_Sdk::test_convertsArguments_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<Value>("argument");
    QTest::addColumn<Value>("expected");
    QTest::newRow("int") << 0 << Value(41) << Value(42);
    QTest::newRow("double") << 1 << Value(1.25) << Value(2.5);
    QTest::newRow("double from int") << 1 << Value(3) << Value(6.0);
    QTest::newRow("string") << 2 << Value("ab") << Value("abab");
    QTest::newRow("bool") << 3 << Value(true) << Value(false);
    QTest::newRow("vector<int64_t>") << 4 << Value::list({1, 2, 3}) << Value::list({2, 4, 6});
    QTest::newRow("empty vector") << 4 << Value(Value::List{}) << Value(Value::List{});
    QTest::newRow("map") << 5 << map({{"a", 1}, {"b", 2}}) << map({{"a", 2}, {"b", 3}});
    QTest::newRow("unordered_map") << 6 << map({{"x", 1.5}}) << map({{"x", 3.0}});
    QTest::newRow("optional given") << 7 << Value(4) << Value(5);
    QTest::newRow("optional null") << 7 << Value() << Value();
    QTest::newRow("Value passes through") << 8 << Value::list({1, "a", Value::ref("k")})
                                          << Value::list({Value::list({1, "a", Value::ref("k")})});
    QTest::newRow("bytes") << 9 << Value(taskbench::Bytes{{1, 2}})
                           << Value(taskbench::Bytes{{2, 1}});
    QTest::newRow("vector<vector<int>>")
        << 10 << Value::list({Value::list({1, 2}), Value::List{}, Value::list({3})})
        << Value::list({2, 0, 1});
    QTest::newRow("vector<bool>") << 11 << Value::list({true, false}) << Value::list({false, true});
    QTest::newRow("float") << 12 << Value(0.5) << Value(1.5);
    QTest::newRow("uint16_t") << 13 << Value(65535) << Value(65534);
}

void tst_Sdk::test_convertsArguments()
{
    QFETCH(int, which);
    QFETCH(Value, argument);
    QFETCH(Value, expected);
    std::vector<sdk::FunctionSpec> specs;
    specs.push_back(specOf(&inc, {"x"}));
    specs.push_back(specOf([](double x) { return x * 2; }, {"x"}));
    specs.push_back(specOf([](const std::string &s) { return s + s; }, {"s"}));
    specs.push_back(specOf([](bool b) { return !b; }, {"b"}));
    specs.push_back(specOf(
        [](std::vector<std::int64_t> xs) {
            for (auto &x : xs)
                x *= 2;
            return xs;
        },
        {"xs"}));
    specs.push_back(specOf(
        [](const std::map<std::string, int> &m) {
            std::map<std::string, int> out;
            for (const auto &[k, v] : m)
                out[k] = v + 1;
            return out;
        },
        {"m"}));
    specs.push_back(specOf(
        [](std::unordered_map<std::string, double> m) {
            for (auto &kv : m)
                kv.second *= 2;
            return m;
        },
        {"m"}));
    specs.push_back(specOf(
        [](std::optional<int> o) { return o ? std::optional<int>(*o + 1) : std::nullopt; }, {"o"}));
    specs.push_back(specOf([](const Value &v) { return Value::list({v}); }, {"v"}));
    specs.push_back(specOf(
        [](taskbench::Bytes b) {
            std::reverse(b.data.begin(), b.data.end());
            return b;
        },
        {"b"}));
    specs.push_back(specOf(
        [](const std::vector<std::vector<int>> &xss) {
            std::vector<std::size_t> sizes;
            for (const auto &xs : xss)
                sizes.push_back(xs.size());
            return sizes;
        },
        {"xss"}));
    specs.push_back(specOf(
        [](std::vector<bool> bs) {
            std::vector<bool> out;
            for (const bool b : bs)
                out.push_back(!b);
            return out;
        },
        {"bs"}));
    specs.push_back(specOf([](float f) { return f + 1.0f; }, {"f"}));
    specs.push_back(specOf([](std::uint16_t u) { return std::uint16_t(u - 1); }, {"u"}));

    const Outcome out = call(specs.at(std::size_t(which)), {argument});
    QVERIFY2(out.error.empty(), out.error.c_str());
    QVERIFY2(out.result == expected, out.result.typeName().c_str());
}

void tst_Sdk::test_typeNames()
{
    const auto types = [](const sdk::FunctionSpec &s) {
        std::vector<std::string> t;
        for (const auto &p : s.params)
            t.push_back(p.type);
        t.push_back("-> " + s.resultType);
        return t;
    };
    using Strings = std::vector<std::string>;
    QCOMPARE(types(specOf([](std::int32_t, double, std::string, bool) { return 1.0f; },
                          {"a", "b", "c", "d"})),
             (Strings{"int", "float", "str", "bool", "-> float"}));
    QCOMPARE(types(specOf([](std::vector<std::int64_t>,
                             std::map<std::string, double>) { return std::vector<std::string>{}; },
                          {"a", "b"})),
             (Strings{"list[int]", "map[str, float]", "-> list[str]"}));
    QCOMPARE(types(specOf([](std::optional<std::vector<int>>, Value, taskbench::Bytes) {},
                          {"a", "b", "c"})),
             (Strings{"optional[list[int]]", "any", "bytes", "-> null"}));
    QCOMPARE(
        types(specOf([](std::unordered_map<std::string, std::optional<bool>>) { return Value(); },
                     {"m"})),
        (Strings{"map[str, optional[bool]]", "-> any"}));
}

void tst_Sdk::test_userTypeThroughPublicConvert()
{
    // A Point round-trips, also inside the SDK's own containers, and its mismatch message
    // names the parameter.
    const auto spec = specOf(&mid, {"a", "b"});
    QCOMPARE(spec.params.at(0).type, std::string("map[str, float]"));
    QCOMPARE(spec.resultType, std::string("map[str, float]"));
    const Outcome out = call(spec, {map({{"x", 1}, {"y", 2.0}}), map({{"x", 3.0}, {"y", 6.0}})});
    QVERIFY2(out.error.empty(), out.error.c_str());
    QCOMPARE(out.result, map({{"x", 2.0}, {"y", 4.0}}));
    QCOMPARE(call(spec, {map({{"x", 1.0}}), map({{"x", 1.0}, {"y", 1.0}})}).error,
             std::string("parameter 'a': expected a map with numbers x and y"));

    const auto many = specOf(
        [](std::vector<Point> points, std::optional<Point> shift) {
            for (Point &p : points)
                p.x += shift ? shift->x : 0;
            return points;
        },
        {"points", sdk::Param("shift", Value())});
    QCOMPARE(many.params.at(0).type, std::string("list[map[str, float]]"));
    QCOMPARE(many.params.at(1).type, std::string("optional[map[str, float]]"));
    const Outcome shifted = call(
        many, {Value::list({map({{"x", 1.0}, {"y", 5.0}})}), map({{"x", 10.0}, {"y", 0.0}})});
    QVERIFY2(shifted.error.empty(), shifted.error.c_str());
    QCOMPARE(shifted.result, Value::list({map({{"x", 11.0}, {"y", 5.0}})}));
    QCOMPARE(call(many, {Value::list({Value(1)}), Value()}).error,
             std::string("parameter 'points'[0]: expected a map with numbers x and y"));
}

void tst_Sdk::test_integerRanges_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<Value>("argument");
    QTest::addColumn<QString>("error");
    const QString ok;
    QTest::newRow("uint8 0") << 0 << Value(0) << ok;
    QTest::newRow("uint8 255") << 0 << Value(255) << ok;
    QTest::newRow("uint8 256") << 0 << Value(256) << "parameter 'u': value 256 is out of range";
    QTest::newRow("uint8 -1") << 0 << Value(-1) << "parameter 'u': value -1 is out of range";
    QTest::newRow("int32 max") << 1 << Value(2147483647) << ok;
    QTest::newRow("int32 min") << 1 << Value(-2147483647 - 1) << ok;
    QTest::newRow("int32 max + 1") << 1 << Value(std::int64_t(2147483648))
                                   << "parameter 'i': value 2147483648 is out of range";
    QTest::newRow("int32 min - 1") << 1 << Value(std::int64_t(-2147483649))
                                   << "parameter 'i': value -2147483649 is out of range";
    QTest::newRow("uint64 int64 max") << 2 << Value(std::numeric_limits<std::int64_t>::max()) << ok;
    QTest::newRow("uint64 -1") << 2 << Value(-1) << "parameter 'n': value -1 is out of range";
    QTest::newRow("unsigned 4294967295") << 3 << Value(std::int64_t(4294967295)) << ok;
    QTest::newRow("unsigned 4294967296") << 3 << Value(std::int64_t(4294967296))
                                         << "parameter 'w': value 4294967296 is out of range";
    QTest::newRow("int8 in a list")
        << 4 << Value::list({1, 200}) << "parameter 'xs'[1]: value 200 is out of range";
}

void tst_Sdk::test_integerRanges()
{
    QFETCH(int, which);
    QFETCH(Value, argument);
    QFETCH(QString, error);
    std::vector<sdk::FunctionSpec> specs;
    specs.push_back(specOf([](std::uint8_t u) { return int(u); }, {"u"}));
    specs.push_back(specOf([](std::int32_t i) { return i; }, {"i"}));
    specs.push_back(specOf([](std::uint64_t n) { return n; }, {"n"}));
    specs.push_back(specOf([](unsigned w) { return w; }, {"w"}));
    specs.push_back(specOf([](std::vector<std::int8_t> xs) { return xs; }, {"xs"}));
    const Outcome out = call(specs.at(std::size_t(which)), {argument});
    QCOMPARE(QString::fromStdString(out.error), error);
    if (error.isEmpty())
        QVERIFY(out.result == argument);
}

void tst_Sdk::test_unsignedResultOutOfRange()
{
    const auto spec
        = specOf([](std::int64_t shift) { return std::uint64_t(1) << shift; }, {"shift"});
    QVERIFY(call(spec, {62}).result == Value(std::int64_t(1) << 62));
    sdk::TaskContext ctx;
    QVERIFY_THROWS_EXCEPTION(sdk::ArgumentError, spec.invoke({63}, ctx));
    try {
        spec.invoke({63}, ctx);
    } catch (const sdk::ArgumentError &e) {
        QCOMPARE(std::string(e.what()),
                 std::string("result 9223372036854775808 does not fit in a 64-bit signed int"));
        QCOMPARE(e.type(), std::string("TypeError"));
    }
}

void tst_Sdk::test_mismatchMessages_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<Value>("argument");
    QTest::addColumn<QString>("error");
    QTest::newRow("int got str") << 0 << Value("a") << "parameter 'x': expected int, got str";
    QTest::newRow("int got float") << 0 << Value(1.0) << "parameter 'x': expected int, got float";
    QTest::newRow("int got bool") << 0 << Value(true) << "parameter 'x': expected int, got bool";
    QTest::newRow("int got null") << 0 << Value() << "parameter 'x': expected int, got null";
    QTest::newRow("int got future")
        << 0 << Value::ref("k") << "parameter 'x': expected int, got future";
    QTest::newRow("float got str") << 1 << Value("1.5") << "parameter 'x': expected float, got str";
    QTest::newRow("str got int") << 2 << Value(1) << "parameter 's': expected str, got int";
    QTest::newRow("bool got int") << 3 << Value(1) << "parameter 'b': expected bool, got int";
    QTest::newRow("list got map") << 4 << map({}) << "parameter 'xs': expected list, got map";
    QTest::newRow("list element") << 4 << Value::list({1, 2, "a"})
                                  << "parameter 'xs'[2]: expected int, got str";
    QTest::newRow("map got list") << 5 << Value(Value::List{})
                                  << "parameter 'm': expected map, got list";
    QTest::newRow("map element") << 5 << map({{"a", 1}, {"b", 2.5}})
                                 << "parameter 'm'[\"b\"]: expected int, got float";
    QTest::newRow("optional element") << 6 << Value("x") << "parameter 'o': expected int, got str";
    QTest::newRow("nested list element")
        << 7 << Value::list({Value::list({1}), Value::list({2, Value::List{}})})
        << "parameter 'xss'[1][1]: expected int, got list";
    QTest::newRow("list in map") << 8 << map({{"k", Value::list({"a", 3})}})
                                 << "parameter 'm'[\"k\"][1]: expected str, got int";
    QTest::newRow("bytes got str") << 9 << Value("ab") << "parameter 'b': expected bytes, got str";
}

void tst_Sdk::test_mismatchMessages()
{
    QFETCH(int, which);
    QFETCH(Value, argument);
    QFETCH(QString, error);
    std::vector<sdk::FunctionSpec> specs;
    specs.push_back(specOf(&inc, {"x"}));
    specs.push_back(specOf([](double x) { return x; }, {"x"}));
    specs.push_back(specOf([](std::string s) { return s; }, {"s"}));
    specs.push_back(specOf([](bool b) { return b; }, {"b"}));
    specs.push_back(specOf([](std::vector<std::int64_t> xs) { return xs; }, {"xs"}));
    specs.push_back(specOf([](std::map<std::string, std::int64_t> m) { return m; }, {"m"}));
    specs.push_back(specOf([](std::optional<std::int64_t> o) { return o; }, {"o"}));
    specs.push_back(
        specOf([](std::vector<std::vector<std::int64_t>> xss) { return xss.size(); }, {"xss"}));
    specs.push_back(
        specOf([](std::map<std::string, std::vector<std::string>> m) { return m.size(); }, {"m"}));
    specs.push_back(specOf([](taskbench::Bytes b) { return b; }, {"b"}));
    const Outcome out = call(specs.at(std::size_t(which)), {argument});
    QCOMPARE(QString::fromStdString(out.error), error);
}

void tst_Sdk::test_firstBadParameterIsNamed()
{
    int calls = 0;
    const auto spec = specOf(
        [&calls](std::int64_t a, std::string b, double c) {
            ++calls;
            return a + std::int64_t(b.size()) + std::int64_t(c);
        },
        {"a", "b", "c"});
    QCOMPARE(call(spec, {1, 2, "x"}).error, std::string("parameter 'b': expected str, got int"));
    QCOMPARE(call(spec, {1, "x", "y"}).error,
             std::string("parameter 'c': expected float, got str"));
    QCOMPARE(calls, 0); // never called with a bad argument
    QVERIFY(call(spec, {1, "xy", 3}).result == Value(6));
    QCOMPARE(calls, 1);
}

void tst_Sdk::test_defaults()
{
    sdk::Plugin plugin("p", "1");
    plugin.def("scale", &scale, {"x", sdk::Param("factor", 2.0)}, "x * factor.");
    plugin.def("join",
               [](std::vector<std::string> parts, std::string sep, std::optional<int> limit) {
                   std::string out;
                   for (std::size_t i = 0; i < parts.size() && (!limit || int(i) < *limit); ++i)
                       out += (i ? sep : "") + parts[i];
                   return out;
               },
               {"parts", sdk::Param("sep", ","), sdk::Param("limit", Value())});
    const sdk::Manifest m = plugin.take();
    QCOMPARE(m.functions.size(), std::size_t(2));
    const auto &s = m.functions[0];
    QCOMPARE(s.name, std::string("scale"));
    QCOMPARE(s.doc, std::string("x * factor."));
    QVERIFY(!s.params[0].hasDefault);
    QVERIFY(s.params[1].hasDefault);
    QVERIFY(s.params[1].defaultValue == Value(2.0));
    const auto &j = m.functions[1];
    QVERIFY(j.params[1].defaultValue == Value(","));
    QVERIFY(j.params[2].hasDefault && j.params[2].defaultValue.isNull());
    QCOMPARE(j.params[2].type, std::string("optional[int]"));
    // The invoker gets complete argument lists (the registry fills defaults).
    QVERIFY(call(j, {Value::list({"a", "b", "c"}), "-", 2}).result == Value("a-b"));
    QVERIFY(call(j, {Value::list({"a", "b"}), ",", Value()}).result == Value("a,b"));
}

void tst_Sdk::test_contextIsNotAParameter()
{
    const auto spec = specOf(
        [](std::int64_t n, sdk::TaskContext &ctx, const std::string &tag) -> std::int64_t {
            ctx.log("start " + tag + " attempt " + std::to_string(ctx.attempt()) + " " + ctx.key());
            std::int64_t done = 0;
            for (std::int64_t i = 0; i < n; ++i) {
                if (ctx.cancelled())
                    break;
                ctx.progress(double(i + 1) / double(n), "step");
                ++done;
            }
            return done;
        },
        {"n", "tag"});
    QCOMPARE(spec.params.size(), std::size_t(2));
    QCOMPARE(spec.params[0].name, std::string("n"));
    QCOMPARE(spec.params[1].name, std::string("tag"));
    QCOMPARE(spec.params[1].type, std::string("str"));

    RecordingContext ctx;
    QVERIFY(spec.invoke({4, "t"}, ctx) == Value(4));
    QCOMPARE(ctx.m_lines, std::vector<std::string>{"start t attempt 3 f-123"});
    QCOMPARE(ctx.m_progress.size(), std::size_t(4));
    QCOMPARE(ctx.m_progress.back().first, 1.0);
    ctx.m_cancelled = true;
    QVERIFY(spec.invoke({4, "t"}, ctx) == Value(0));

    // A context-only function has no parameters; the default context is harmless.
    const auto only = specOf([](sdk::TaskContext &c) { return c.cancelled(); }, {});
    QVERIFY(only.params.empty());
    QVERIFY(call(only, {}).result == Value(false));
    // The mismatch names the user's parameter, not the context's position.
    QCOMPARE(call(spec, {4, 5}).error, std::string("parameter 'tag': expected str, got int"));
}

void tst_Sdk::test_voidResult()
{
    int seen = 0;
    const auto spec = specOf([&seen](int x) { seen = x; }, {"x"});
    QCOMPARE(spec.resultType, std::string("null"));
    const Outcome out = call(spec, {7});
    QVERIFY(out.error.empty());
    QVERIFY(out.result.isNull());
    QCOMPARE(seen, 7);
}

void tst_Sdk::test_exceptionsPropagate()
{
    sdk::TaskContext ctx;
    const auto thrower
        = specOf([](int) -> int { throw std::runtime_error("You hit the error!"); }, {"i"});
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, thrower.invoke({1}, ctx));
    try {
        thrower.invoke({1}, ctx);
    } catch (const std::runtime_error &e) {
        QCOMPARE(std::string(e.what()), std::string("You hit the error!"));
    }

    const auto typed
        = specOf([](int) -> int { throw sdk::TaskException("ValueError", "bad value"); }, {"i"});
    try {
        typed.invoke({1}, ctx);
        QFAIL("no exception");
    } catch (const sdk::TaskException &e) {
        QCOMPARE(e.type(), std::string("ValueError"));
        QCOMPARE(std::string(e.what()), std::string("bad value"));
    }

    const auto other = specOf([](int) -> int { throw NotAnException{42}; }, {"i"});
    try {
        other.invoke({1}, ctx);
        QFAIL("no exception");
    } catch (const NotAnException &e) {
        QCOMPARE(e.code, 42);
    }

    const auto range = specOf([](std::vector<int> v) { return v.at(5); }, {"v"});
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, range.invoke({Value::list({1})}, ctx));
}

void tst_Sdk::test_wrongArgumentCount()
{
    const auto spec = specOf(&scale, {"x", "factor"});
    QCOMPARE(call(spec, {1.0}).error, std::string("expected 2 arguments, got 1"));
    QCOMPARE(call(spec, {1.0, 2.0, 3.0}).error, std::string("expected 2 arguments, got 3"));
    QVERIFY(call(spec, {1.5, 2}).result == Value(3.0));
}

void tst_Sdk::test_defRefusesBadParameterLists()
{
    const auto refuses = [](auto register_, const std::string &message) {
        sdk::Plugin plugin("p", "1");
        try {
            register_(plugin);
        } catch (const std::invalid_argument &e) {
            return std::string(e.what()) == message ? std::string() : std::string(e.what());
        }
        return std::string("accepted");
    };
    QCOMPARE(refuses([](sdk::Plugin &p) { p.def("inc", &inc, {}); },
                     "function 'inc': 1 parameters but 0 names"),
             std::string());
    QCOMPARE(refuses(
                 [](sdk::Plugin &p) {
                     p.def("inc", &inc, {"x", "y"});
                 },
                 "function 'inc': 1 parameters but 2 names"),
             std::string());
    QCOMPARE(refuses(
                 [](sdk::Plugin &p) {
                     p.def("ctx", [](sdk::TaskContext &, int) { return 1; }, {"c", "x"});
                 },
                 "function 'ctx': 1 parameters but 2 names"),
             std::string());
    QCOMPARE(refuses([](sdk::Plugin &p) { p.def("", &inc, {"x"}); }, "function name is empty"),
             std::string());
    QCOMPARE(refuses([](sdk::Plugin &p) { p.def("inc", &inc, {""}); },
                     "function 'inc': parameter 0 has no name"),
             std::string());
    QCOMPARE(refuses(
                 [](sdk::Plugin &p) {
                     p.def("s", &scale, {sdk::Param("x", 1.0), "factor"});
                 },
                 "function 's': parameter 'factor' without default follows one with a default"),
             std::string());
}

void tst_Sdk::test_lambdasAndFunctionKinds()
{
    // Function pointers, functions, noexcept functions, stateless, capturing and mutable
    // lambdas, std::function.
    const int base = 10;
    int counter = 0;
    sdk::Plugin plugin("p", "1");
    plugin.def("ptr", &inc, {"x"});
    plugin.def("fn", inc, {"x"});
    plugin.def("noexcept", &noexceptInc, {"x"});
    plugin.def("lambda", [](int x) noexcept { return x * 3; }, {"x"});
    plugin.def("capture", [base](int x) { return x + base; }, {"x"});
    plugin.def("mutable", [counter](int x) mutable { return x + ++counter; }, {"x"});
    plugin.def("function", std::function<int(int)>([](int x) { return -x; }), {"x"});
    const sdk::Manifest m = plugin.take();
    const std::vector<Value> expected{2, 2, 2, 3, 11, 2, -1};
    QCOMPARE(m.functions.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
        QVERIFY2(call(m.functions[i], {1}).result == expected[i], m.functions[i].name.c_str());
}

void tst_Sdk::test_pluginEntryPoint()
{
    const sdk::PluginEntry *entry = taskbench_plugin_entry_impl();
    QCOMPARE(entry->magic, sdk::kPluginMagic);
    QCOMPARE(entry->sdkVersion, std::uint32_t(TASKBENCH_SDK_VERSION));
    const sdk::Manifest m = entry->build();
    QCOMPARE(m.sdkVersion, TASKBENCH_SDK_VERSION);
    QCOMPARE(m.name, std::string("sdktest"));
    QCOMPARE(m.version, std::string("2.1"));
    QCOMPARE(m.description, std::string("SDK test plugin"));
    QCOMPARE(m.functions.size(), std::size_t(2));
    QCOMPARE(m.functions[1].name, std::string("scale"));
    QVERIFY(call(m.functions[1], {3, 2}).result == Value(6.0));
}

// ---------------------------------------------------------------------------------------
// FunctionRegistry

namespace {

taskbench::FunctionInfo infoFrom(const std::string &plugin, sdk::FunctionSpec spec)
{
    taskbench::FunctionInfo info;
    info.plugin = plugin;
    info.name = spec.name;
    info.qualifiedName = plugin + "." + spec.name;
    info.doc = spec.doc;
    info.params = std::move(spec.params);
    info.resultType = spec.resultType;
    info.invoke = std::move(spec.invoke);
    return info;
}

taskbench::FunctionRegistry &testRegistry()
{
    static taskbench::FunctionRegistry registry;
    static const bool filled = [](taskbench::FunctionRegistry &r) {
        sdk::Plugin plugin("tutorial", "1.0");
        plugin.def("inc", &inc, {"x"}, "Add one.");
        plugin.def("add", [](double x, double y) { return x + y; }, {"x", "y"});
        plugin.def("scale", &scale, {"x", sdk::Param("factor", 2.0)});
        plugin.def("sum", [](std::vector<std::int64_t> xs) { return xs.size(); }, {"xs"});
        plugin.def("lookup",
                   [](std::map<std::string, std::optional<std::int64_t>> m, std::string k) {
                       return m.count(k) > 0;
                   },
                   {"table", sdk::Param("key", "a")});
        plugin.def(
            "any", [](Value v, std::optional<std::string> label) { return v; }, {"v", "label"});
        plugin.def("nested",
                   [](std::vector<std::vector<double>> rows, taskbench::Bytes blob, bool flag) {
                       return rows.size() + blob.data.size() + flag;
                   },
                   {"rows", "blob", sdk::Param("flag", false)});
        plugin.def("none", [] { return 1; }, {});
        for (auto &spec : plugin.take().functions)
            r.add(infoFrom("tutorial", std::move(spec)));
        return true;
    }(registry);
    Q_UNUSED(filled);
    return registry;
}

} // namespace

void tst_Sdk::test_signature()
{
    auto &r = testRegistry();
    QCOMPARE(r.find("tutorial.inc")->signature(), std::string("inc(x: int) -> int"));
    QCOMPARE(r.find("tutorial.scale")->signature(),
             std::string("scale(x: float, factor: float = 2.0) -> float"));
    QCOMPARE(r.find("tutorial.lookup")->signature(),
             std::string("lookup(table: map[str, optional[int]], key: str = \"a\") -> bool"));
    QCOMPARE(r.find("tutorial.sum")->signature(), std::string("sum(xs: list[int]) -> int"));
    QCOMPARE(r.find("tutorial.none")->signature(), std::string("none() -> int"));
    taskbench::FunctionRegistry host;
    host.addFunction(
        "test.log", [](std::string s) { (void)s; }, {"line"}, "Logs.");
    QCOMPARE(host.find("test.log")->signature(), std::string("test.log(line: str) -> null"));
    QCOMPARE(host.find("test.log")->doc, std::string("Logs."));
    QCOMPARE(host.find("test.log")->plugin, std::string());
}

void tst_Sdk::test_registryFindReplaceRemove()
{
    taskbench::FunctionRegistry r;
    QVERIFY(r.find("a.f") == nullptr);
    r.addFunction("b.g", [](int x) { return x; }, {"x"});
    sdk::Plugin p("a", "1");
    p.def("f", &inc, {"x"});
    p.def("h", &inc, {"x"});
    for (auto &spec : p.take().functions)
        r.add(infoFrom("a", std::move(spec)));

    std::vector<std::string> names;
    for (const auto &f : r.all())
        names.push_back(f->qualifiedName);
    QCOMPARE(names, (std::vector<std::string>{"a.f", "a.h", "b.g"}));

    // Replacing keeps an old entry alive for whoever holds it.
    const taskbench::FunctionPtr old = r.find("a.f");
    taskbench::FunctionInfo replacement = *old;
    replacement.doc = "new";
    r.add(replacement);
    QCOMPARE(r.find("a.f")->doc, std::string("new"));
    QCOMPARE(old->doc, std::string());
    sdk::TaskContext ctx;
    QVERIFY(old->invoke({1}, ctx) == Value(2));

    r.removePlugin("a");
    QVERIFY(r.find("a.f") == nullptr);
    QVERIFY(r.find("a.h") == nullptr);
    QVERIFY(r.find("b.g") != nullptr);
    QCOMPARE(r.all().size(), std::size_t(1));
    // A look-up with a long name (beyond the small-string buffer) and a string_view slice.
    r.addFunction("a_rather_long_plugin_name.function", [](int x) { return x; }, {"x"});
    const std::string text = "[a_rather_long_plugin_name.function]";
    QVERIFY(r.find(std::string_view(text).substr(1, text.size() - 2)) != nullptr);
}

void tst_Sdk::test_registryConcurrentUse()
{
    // Writers replace and remove while readers look up and list: no torn entries (and, in
    // the ThreadSanitizer build, no data race).
    taskbench::FunctionRegistry r;
    r.addFunction("stable.f", [](int x) { return x; }, {"x"});
    std::atomic<bool> failed = false;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) {
                if (t % 2 == 0) {
                    r.addFunction("p" + std::to_string(t) + ".f" + std::to_string(i % 10),
                                  [](int x) { return x; },
                                  {"x"});
                    if (i % 100 == 99) {
                        taskbench::FunctionInfo info = *r.find("stable.f");
                        r.add(info);
                    }
                } else {
                    const auto f = r.find("stable.f");
                    if (!f || f->params.size() != 1)
                        failed = true;
                    for (const auto &g : r.all())
                        if (g->qualifiedName.empty())
                            failed = true;
                }
            }
        });
    }
    for (auto &t : threads)
        t.join();
    QVERIFY(!failed);
    QCOMPARE(r.all().size(), std::size_t(21));
}

void tst_Sdk::test_bindArguments_data()
{
    QTest::addColumn<QString>("function");
    QTest::addColumn<Value>("args");
    QTest::addColumn<Value>("kwargs");
    QTest::addColumn<Value>("bound"); // null when an error is expected
    QTest::addColumn<QString>("error");
    const Value none = Value(Value::Map{});
    const Value noArgs = Value(Value::List{});
    QTest::newRow("positional") << "tutorial.inc" << Value::list({1}) << none << Value::list({1})
                                << "";
    QTest::newRow("float accepts int")
        << "tutorial.add" << Value::list({1, 2.5}) << none << Value::list({1, 2.5}) << "";
    QTest::newRow("default filled")
        << "tutorial.scale" << Value::list({3.0}) << none << Value::list({3.0, 2.0}) << "";
    QTest::newRow("kwarg") << "tutorial.scale" << Value::list({3.0}) << map({{"factor", 4}})
                           << Value::list({3.0, 4}) << "";
    QTest::newRow("all by name") << "tutorial.add" << noArgs << map({{"y", 2}, {"x", 1}})
                                 << Value::list({1, 2}) << "";
    QTest::newRow("no parameters") << "tutorial.none" << noArgs << none << noArgs << "";
    QTest::newRow("too many") << "tutorial.inc" << Value::list({1, 2}) << none << Value()
                              << "tutorial.inc: takes 1 argument (x) but 2 were given";
    QTest::newRow("too many for none") << "tutorial.none" << Value::list({1}) << none << Value()
                                       << "tutorial.none: takes 0 arguments but 1 was given";
    QTest::newRow("missing") << "tutorial.add" << Value::list({1}) << none << Value()
                             << "tutorial.add: missing argument for parameter 'y'";
    QTest::newRow("missing all") << "tutorial.inc" << noArgs << none << Value()
                                 << "tutorial.inc: missing argument for parameter 'x'";
    QTest::newRow("unknown kwarg") << "tutorial.inc" << Value::list({1}) << map({{"y", 1}})
                                   << Value() << "tutorial.inc: unknown parameter 'y'";
    QTest::newRow("given twice")
        << "tutorial.inc" << Value::list({1}) << map({{"x", 1}}) << Value()
        << "tutorial.inc: parameter 'x' given both by position and by name";
    QTest::newRow("wrong type") << "tutorial.inc" << Value::list({"a"}) << none << Value()
                                << "tutorial.inc: parameter 'x': expected int, got str";
    QTest::newRow("float is not int") << "tutorial.inc" << Value::list({1.5}) << none << Value()
                                      << "tutorial.inc: parameter 'x': expected int, got float";
    QTest::newRow("wrong kwarg type")
        << "tutorial.scale" << Value::list({1}) << map({{"factor", "big"}}) << Value()
        << "tutorial.scale: parameter 'factor': expected float, got str";
    QTest::newRow("list element") << "tutorial.sum" << Value::list({Value::list({1, 2, "x"})})
                                  << none << Value()
                                  << "tutorial.sum: parameter 'xs'[2]: expected int, got str";
    QTest::newRow("list got int") << "tutorial.sum" << Value::list({5}) << none << Value()
                                  << "tutorial.sum: parameter 'xs': expected list, got int";
    QTest::newRow("map with null in optional")
        << "tutorial.lookup" << Value::list({map({{"a", Value()}, {"b", 2}})}) << none
        << Value::list({map({{"a", Value()}, {"b", 2}}), "a"}) << "";
    QTest::newRow("map element")
        << "tutorial.lookup" << Value::list({map({{"a", 1}, {"b", "two"}})}) << none << Value()
        << "tutorial.lookup: parameter 'table'[\"b\"]: expected int, got str";
    QTest::newRow("map got list") << "tutorial.lookup" << Value::list({Value::list({})}) << none
                                  << Value()
                                  << "tutorial.lookup: parameter 'table': expected map, got list";
    QTest::newRow("any takes anything")
        << "tutorial.any" << Value::list({map({{"k", Value::list({1, "x"})}}), Value()}) << none
        << Value::list({map({{"k", Value::list({1, "x"})}}), Value()}) << "";
    QTest::newRow("optional str got int")
        << "tutorial.any" << Value::list({1, 2}) << none << Value()
        << "tutorial.any: parameter 'label': expected str, got int";
    QTest::newRow("nested lists")
        << "tutorial.nested"
        << Value::list({Value::list({Value::list({1.5, 2}), Value::list({3, true})}),
                        Value(taskbench::Bytes{})})
        << none << Value() << "tutorial.nested: parameter 'rows'[1][1]: expected float, got bool";
    QTest::newRow("bytes") << "tutorial.nested"
                           << Value::list({Value::List{}, Value(taskbench::Bytes{{1}})}) << none
                           << Value::list({Value::List{}, Value(taskbench::Bytes{{1}}), false})
                           << "";
    QTest::newRow("bytes got str")
        << "tutorial.nested" << Value::list({Value::List{}, "ab"}) << none << Value()
        << "tutorial.nested: parameter 'blob': expected bytes, got str";
}

void tst_Sdk::test_bindArguments()
{
    QFETCH(QString, function);
    QFETCH(Value, args);
    QFETCH(Value, kwargs);
    QFETCH(Value, bound);
    QFETCH(QString, error);
    const auto fn = testRegistry().find(function.toStdString());
    QVERIFY(fn);
    std::string message;
    const auto result
        = taskbench::FunctionRegistry::bindArguments(*fn, args.toList(), kwargs.toMap(), &message);
    QCOMPARE(QString::fromStdString(message), error);
    QCOMPARE(result.has_value(), error.isEmpty());
    if (result) {
        QVERIFY(Value(*result) == bound);
        // What bindArguments accepts, the SDK converts without complaint.
        sdk::TaskContext ctx;
        fn->invoke(*result, ctx);
    } else {
        QVERIFY(!taskbench::FunctionRegistry::bindArguments(
            *fn, args.toList(), kwargs.toMap(), nullptr));
    }
}

void tst_Sdk::test_bindArgumentsKeepsRefsForLater()
{
    // A future reference fits any parameter type, at the top or inside a list or map; the
    // check happens when the task runs, against the actual result.
    const auto check = [](const char *function, std::vector<Value> args) {
        std::string error;
        const auto fn = testRegistry().find(function);
        const auto bound = taskbench::FunctionRegistry::bindArguments(*fn, args, {}, &error);
        return bound ? std::string() : error;
    };
    QCOMPARE(check("tutorial.inc", {Value::ref("k")}), std::string());
    QCOMPARE(check("tutorial.sum", {Value::ref("k")}), std::string());
    QCOMPARE(check("tutorial.sum", {Value::list({1, Value::ref("k"), 3})}), std::string());
    QCOMPARE(check("tutorial.lookup", {map({{"a", Value::ref("k")}}), Value::ref("j")}),
             std::string());
    QCOMPARE(check("tutorial.nested",
                   {Value::list({Value::ref("r"), Value::list({1.0})}), Value::ref("b")}),
             std::string());
    // Literals next to references are still checked.
    QCOMPARE(check("tutorial.sum", {Value::list({Value::ref("k"), "x"})}),
             std::string("tutorial.sum: parameter 'xs'[1]: expected int, got str"));
    const auto fn = testRegistry().find("tutorial.add");
    const auto bound = taskbench::FunctionRegistry::bindArguments(
        *fn, {Value::ref("a")}, Value::Map{{"y", Value::ref("b")}}, nullptr);
    QVERIFY(bound);
    QVERIFY(Value(*bound) == Value::list({Value::ref("a"), Value::ref("b")}));
}

QTEST_MAIN(tst_Sdk)
#include "tst_sdk.moc"
