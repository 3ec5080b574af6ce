// Tests of the Value type and its codecs: CBOR round trips and exact canonical bytes, hostile
// CBOR input (every truncation, seeded random garbage and bit flips, lying lengths, deep
// nesting, wrong keys and tags), JSON both ways, repr, command-line arguments and tokens.
#include "taskbench/value.h"
#include "taskbench/valuecodec.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include <QtTest>

using taskbench::Bytes;
using taskbench::Value;

Q_DECLARE_METATYPE(taskbench::Value)

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

std::string hex(const std::string &bytes)
{
    return QByteArray::fromRawData(bytes.data(), qsizetype(bytes.size())).toHex().toStdString();
}

std::string unhex(const char *text)
{
    return QByteArray::fromHex(text).toStdString();
}

Value bytes(std::initializer_list<std::uint8_t> b)
{
    return Value(Bytes{std::vector<std::uint8_t>(b)});
}

Value map(std::initializer_list<std::pair<const std::string, Value>> entries)
{
    return Value(Value::Map(entries));
}

/// Equality that treats NaN as equal to NaN (the canonical encodings are then equal).
bool sameValue(const Value &a, const Value &b)
{
    return taskbench::encodeCbor(a) == taskbench::encodeCbor(b);
}

Value nested(int depth, bool maps = false)
{
    Value v = 1;
    for (int i = 0; i < depth; ++i)
        v = maps ? map({{"k", v}}) : Value(Value::List{v});
    return v;
}

/// A seed from TASKBENCH_TEST_SEED, else a fixed one: reruns are reproducible either way.
std::uint64_t testSeed()
{
    bool ok = false;
    const qulonglong fromEnv = qEnvironmentVariable("TASKBENCH_TEST_SEED").toULongLong(&ok);
    const std::uint64_t seed = ok ? fromEnv : 20240601u;
    qInfo("random seed: %llu (set TASKBENCH_TEST_SEED to change)", qulonglong(seed));
    return seed;
}

/// A varied sample value with every type, nested.
Value sampleValue()
{
    return map({{"ints", Value::list({0, 1, -1, 23, 24, -25, 255, 256, 65536, kMax, kMin})},
                {"floats", Value::list({0.5, -0.0, 1e300, 3.14159})},
                {"text", "héllo \"world\"\n"},
                {"raw", bytes({0, 1, 2, 0xff})},
                {"refs", Value::list({Value::ref("inc-1"), map({{"deep", Value::ref("add-2")}})})},
                {"flags", Value::list({true, false, nullptr})},
                {"empty", map({})}});
}

std::size_t peakRssKiB()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return std::size_t(usage.ru_maxrss);
}

} // namespace

class tst_Value : public QObject
{
    Q_OBJECT

private slots:
    void test_cborRoundTrip_data();
    void test_cborRoundTrip();
    void test_canonicalBytes_data();
    void test_canonicalBytes();
    void test_equalMapsEncodeEqually();
    void test_appendCborAppends();
    void test_decodeAcceptsNonShortestForms_data();
    void test_decodeAcceptsNonShortestForms();
    void test_floatWidths();
    void test_decodeMalformed_data();
    void test_decodeMalformed();
    void test_decodeTruncatedAtEveryPrefix_data();
    void test_decodeTruncatedAtEveryPrefix();
    void test_decodeRandomGarbage();
    void test_decodeBitFlips();
    void test_decodeDepthLimit_data();
    void test_decodeDepthLimit();
    void test_lyingLengthsDoNotAllocate();
    void test_typeName_data();
    void test_typeName();
    void test_containsRefAndForEachRef();
    void test_repr_data();
    void test_repr();
    void test_reprElides();
    void test_toJson_data();
    void test_toJson();
    void test_toJsonPretty();
    void test_jsonRoundTrip_data();
    void test_jsonRoundTrip();
    void test_fromJson_data();
    void test_fromJson();
    void test_fromJsonErrors_data();
    void test_fromJsonErrors();
    void test_parseArgument_data();
    void test_parseArgument();
    void test_tokenize();
    void test_randomToken();
};

// ---------------------------------------------------------------------------------------
// CBOR

void tst_Value::test_cborRoundTrip_data()
{
    QTest::addColumn<Value>("value");
    QTest::newRow("null") << Value();
    QTest::newRow("true") << Value(true);
    QTest::newRow("false") << Value(false);
    for (const std::int64_t i : {std::int64_t(0),
                                 std::int64_t(23),
                                 std::int64_t(24),
                                 std::int64_t(255),
                                 std::int64_t(256),
                                 std::int64_t(65535),
                                 std::int64_t(65536),
                                 std::int64_t(4294967295),
                                 std::int64_t(4294967296),
                                 kMax,
                                 std::int64_t(-1),
                                 std::int64_t(-24),
                                 std::int64_t(-25),
                                 std::int64_t(-256),
                                 std::int64_t(-257),
                                 std::int64_t(-4294967296),
                                 std::int64_t(-4294967297),
                                 kMin})
        QTest::addRow("int %lld", static_cast<long long>(i)) << Value(i);
    for (const double d : {0.0,
                           -0.0,
                           1.0,
                           1.5,
                           -2.0,
                           0.1,
                           65504.0,
                           65536.0,
                           5.960464477539063e-08, // smallest half subnormal
                           6.103515625e-05,       // smallest half normal
                           1e-40,                 // float subnormal: needs a double
                           3.4028234663852886e+38,
                           1e300,
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()})
        QTest::addRow("double %.17g", d) << Value(d);
    QTest::newRow("empty string") << Value("");
    QTest::newRow("string") << Value("abc");
    QTest::newRow("utf-8 string") << Value("grüße, 世界 😀");
    QTest::newRow("string with NUL") << Value(std::string("a\0b", 3));
    QTest::newRow("not utf-8 string") << Value(std::string("\xff\xfe", 2));
    QTest::newRow("long string") << Value(std::string(70000, 'x'));
    QTest::newRow("empty bytes") << Value(Bytes{});
    QTest::newRow("bytes") << bytes({0, 1, 2, 0x7f, 0x80, 0xff});
    QTest::newRow("empty list") << Value(Value::List{});
    QTest::newRow("list") << Value::list({1, "a", 2.5, nullptr});
    QTest::newRow("long list") << Value(Value::List(1000, Value(7)));
    QTest::newRow("empty map") << map({});
    QTest::newRow("map") << map({{"b", 1}, {"a", Value::list({1, 2})}, {"", "empty key"}});
    QTest::newRow("ref") << Value::ref("inc-269ac070d53262b80ee5ba51554afc5d");
    QTest::newRow("empty ref") << Value::ref("");
    QTest::newRow("refs nested in lists and maps") << Value::list(
        {Value::ref("a"),
         map({{"x", Value::list({Value::ref("b"), map({{"y", Value::ref("c")}})})}})});
    QTest::newRow("everything") << sampleValue();
    QTest::newRow("256 nested lists") << nested(taskbench::kMaxDecodeDepth);
    QTest::newRow("256 nested maps") << nested(taskbench::kMaxDecodeDepth, true);
}

void tst_Value::test_cborRoundTrip()
{
    QFETCH(Value, value);
    const std::string encoded = taskbench::encodeCbor(value);
    std::string error;
    const std::optional<Value> decoded = taskbench::decodeCbor(encoded, &error);
    QVERIFY2(decoded.has_value(), error.c_str());
    if (value.isDouble() && std::isnan(value.toDouble())) {
        QVERIFY(decoded->isDouble());
        QVERIFY(std::isnan(decoded->toDouble()));
    } else {
        QVERIFY(*decoded == value);
        if (value.isDouble()) // the sign of zero survives too
            QCOMPARE(std::signbit(decoded->toDouble()), std::signbit(value.toDouble()));
    }
    QCOMPARE(taskbench::encodeCbor(*decoded), encoded);
}

void tst_Value::test_canonicalBytes_data()
{
    QTest::addColumn<Value>("value");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("0") << Value(0) << QByteArray("00");
    QTest::newRow("23") << Value(23) << QByteArray("17");
    QTest::newRow("24") << Value(24) << QByteArray("1818");
    QTest::newRow("255") << Value(255) << QByteArray("18ff");
    QTest::newRow("256") << Value(256) << QByteArray("190100");
    QTest::newRow("65536") << Value(65536) << QByteArray("1a00010000");
    QTest::newRow("2^32") << Value(std::int64_t(1) << 32) << QByteArray("1b0000000100000000");
    QTest::newRow("int64 max") << Value(kMax) << QByteArray("1b7fffffffffffffff");
    QTest::newRow("-1") << Value(-1) << QByteArray("20");
    QTest::newRow("-25") << Value(-25) << QByteArray("3818");
    QTest::newRow("int64 min") << Value(kMin) << QByteArray("3b7fffffffffffffff");
    QTest::newRow("false") << Value(false) << QByteArray("f4");
    QTest::newRow("true") << Value(true) << QByteArray("f5");
    QTest::newRow("null") << Value() << QByteArray("f6");
    QTest::newRow("1.5 as half") << Value(1.5) << QByteArray("f93e00");
    QTest::newRow("-0.0 as half") << Value(-0.0) << QByteArray("f98000");
    QTest::newRow("65504 as half") << Value(65504.0) << QByteArray("f97bff");
    QTest::newRow("half subnormal") << Value(5.960464477539063e-08) << QByteArray("f90001");
    QTest::newRow("100000 as single") << Value(100000.0) << QByteArray("fa47c35000");
    QTest::newRow("0.1 as double") << Value(0.1) << QByteArray("fb3fb999999999999a");
    QTest::newRow("nan") << Value(std::numeric_limits<double>::quiet_NaN()) << QByteArray("f97e00");
    QTest::newRow("inf") << Value(std::numeric_limits<double>::infinity()) << QByteArray("f97c00");
    QTest::newRow("-inf") << Value(-std::numeric_limits<double>::infinity())
                          << QByteArray("f9fc00");
    QTest::newRow("text") << Value("a") << QByteArray("6161");
    QTest::newRow("24-byte text") << Value(std::string(24, 'a'))
                                  << QByteArray("7818" + QByteArray(24, 'a').toHex());
    QTest::newRow("bytes") << bytes({1, 2}) << QByteArray("420102");
    QTest::newRow("list") << Value::list({1, 2}) << QByteArray("820102");
    QTest::newRow("map keys sorted") << map({{"b", 1}, {"a", 2}}) << QByteArray("a2616102616201");
    QTest::newRow("ref is tag 40001") << Value::ref("k") << QByteArray("d99c41616b");
    QTest::newRow("ref in list") << Value::list({Value::ref("k")}) << QByteArray("81d99c41616b");
}

void tst_Value::test_canonicalBytes()
{
    QFETCH(Value, value);
    QFETCH(QByteArray, expected);
    QCOMPARE(QByteArray::fromStdString(hex(taskbench::encodeCbor(value))), expected);
}

void tst_Value::test_equalMapsEncodeEqually()
{
    Value::Map a;
    a["zeta"] = 1;
    a["alpha"] = Value::list({1, 2});
    a["mid"] = map({{"y", 2}, {"x", 1}});
    Value::Map b;
    b["mid"] = map({{"x", 1}, {"y", 2}});
    b["alpha"] = Value::list({1, 2});
    b["zeta"] = 1;
    QCOMPARE(taskbench::encodeCbor(Value(a)), taskbench::encodeCbor(Value(b)));

    // A map that arrives with unsorted keys decodes to the same value, and re-encodes
    // canonically: {"b": 1, "a": 2} on the wire.
    const auto decoded = taskbench::decodeCbor(unhex("a2616201616102"));
    QVERIFY(decoded);
    QVERIFY(*decoded == map({{"a", 2}, {"b", 1}}));
    QCOMPARE(hex(taskbench::encodeCbor(*decoded)), std::string("a2616102616201"));

    // Different values differ.
    QVERIFY(taskbench::encodeCbor(Value(1)) != taskbench::encodeCbor(Value(1.0)));
    QVERIFY(taskbench::encodeCbor(Value("k")) != taskbench::encodeCbor(Value::ref("k")));
    QVERIFY(taskbench::encodeCbor(Value("ab")) != taskbench::encodeCbor(bytes({'a', 'b'})));
}

void tst_Value::test_appendCborAppends()
{
    std::string out = "prefix";
    taskbench::appendCbor(out, Value::list({1, 2}));
    taskbench::appendCbor(out, Value("a"));
    QCOMPARE(out, std::string("prefix") + unhex("820102") + unhex("6161"));
}

void tst_Value::test_decodeAcceptsNonShortestForms_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<Value>("expected");
    QTest::newRow("0 in one extra byte") << QByteArray("1800") << Value(0);
    QTest::newRow("1 in eight bytes") << QByteArray("1b0000000000000001") << Value(1);
    QTest::newRow("-1 in two bytes") << QByteArray("390000") << Value(-1);
    QTest::newRow("text length in 4 bytes") << QByteArray("7a0000000161") << Value("a");
    QTest::newRow("1.0 as single") << QByteArray("fa3f800000") << Value(1.0);
    QTest::newRow("1.0 as double") << QByteArray("fb3ff0000000000000") << Value(1.0);
    QTest::newRow("half subnormal") << QByteArray("f90200") << Value(std::ldexp(1.0, -15));
    QTest::newRow("array count in 2 bytes") << QByteArray("99000101") << Value::list({1});
}

void tst_Value::test_decodeAcceptsNonShortestForms()
{
    QFETCH(QByteArray, input);
    QFETCH(Value, expected);
    std::string error;
    const auto v = taskbench::decodeCbor(QByteArray::fromHex(input).toStdString(), &error);
    QVERIFY2(v, error.c_str());
    QVERIFY(*v == expected);
}

void tst_Value::test_floatWidths()
{
    // Every half-precision bit pattern that is a finite number decodes to a value that
    // encodes back to the same two bytes (the encoder picks half whenever it is exact).
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
        if ((h & 0x7c00) == 0x7c00)
            continue; // inf and nan: covered in the canonical byte tests
        const std::string in = {char(0xf9), char(h >> 8), char(h & 0xff)};
        const auto v = taskbench::decodeCbor(in);
        QVERIFY(v && v->isDouble());
        QCOMPARE(hex(taskbench::encodeCbor(*v)), hex(in));
    }
    // Values between the widths pick the narrowest exact one.
    QCOMPARE(taskbench::encodeCbor(Value(65505.0)).size(), std::size_t(5)); // not a half
    QCOMPARE(taskbench::encodeCbor(Value(1.0 + std::ldexp(1.0, -23))).size(), std::size_t(5));
    QCOMPARE(taskbench::encodeCbor(Value(1.0 + std::ldexp(1.0, -24))).size(), std::size_t(9));
}

void tst_Value::test_decodeMalformed_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("reason");
    QTest::newRow("empty") << QByteArray("") << "truncated";
    QTest::newRow("truncated int argument") << QByteArray("19ff") << "truncated";
    QTest::newRow("truncated array") << QByteArray("83011901") << "truncated";
    QTest::newRow("truncated map value") << QByteArray("a16161") << "truncated";
    QTest::newRow("bytes length 2^64-1") << QByteArray("5bffffffffffffffff") << "exceeds";
    QTest::newRow("text length 2 GiB") << QByteArray("7a7fffffff61") << "exceeds";
    QTest::newRow("array count 2^64-1") << QByteArray("9bffffffffffffffff00") << "exceeds";
    QTest::newRow("array count 16M, one item") << QByteArray("9a00ffffff00") << "exceeds";
    QTest::newRow("map count 2^64-1") << QByteArray("bbffffffffffffffff") << "exceeds";
    QTest::newRow("map count over half the rest") << QByteArray("a3616101") << "exceeds";
    QTest::newRow("int key") << QByteArray("a10102") << "map key must be a text string";
    QTest::newRow("null key") << QByteArray("a1f601") << "map key must be a text string";
    QTest::newRow("bytes key") << QByteArray("a1416101") << "map key must be a text string";
    QTest::newRow("list key") << QByteArray("a1800101") << "map key must be a text string";
    QTest::newRow("duplicate key") << QByteArray("a2616101616102") << "duplicate map key";
    QTest::newRow("duplicate unsorted key")
        << QByteArray("a3616201616102616203") << "duplicate map key";
    QTest::newRow("ref around int") << QByteArray("d99c4101") << "must wrap a text string";
    QTest::newRow("ref around bytes") << QByteArray("d99c414161") << "must wrap a text string";
    QTest::newRow("ref around list") << QByteArray("d99c418161") << "must wrap a text string";
    QTest::newRow("ref without content") << QByteArray("d99c41") << "truncated";
    QTest::newRow("ref key truncated") << QByteArray("d99c416261") << "exceeds";
    QTest::newRow("other tag") << QByteArray("c074323031332d30332d32315432303a30343a30305a")
                               << "unsupported tag 0";
    QTest::newRow("tag 40000") << QByteArray("d99c40616b") << "unsupported tag 40000";
    QTest::newRow("reserved info 28") << QByteArray("1c") << "reserved additional information";
    QTest::newRow("reserved info 30") << QByteArray("7e") << "reserved additional information";
    QTest::newRow("indefinite bytes") << QByteArray("5f4101ff") << "indefinite-length";
    QTest::newRow("indefinite array") << QByteArray("9f01ff") << "indefinite-length";
    QTest::newRow("indefinite map") << QByteArray("bf616101ff") << "indefinite-length";
    QTest::newRow("lone break") << QByteArray("ff") << "unexpected break";
    QTest::newRow("undefined") << QByteArray("f7") << "unsupported simple value";
    QTest::newRow("simple 16") << QByteArray("f0") << "unsupported simple value";
    QTest::newRow("simple 32") << QByteArray("f820") << "unsupported simple value";
    QTest::newRow("uint above int64") << QByteArray("1b8000000000000000") << "exceeds int64";
    QTest::newRow("uint 2^64-1") << QByteArray("1bffffffffffffffff") << "exceeds int64";
    QTest::newRow("nint below int64") << QByteArray("3b8000000000000000") << "below int64";
    QTest::newRow("trailing byte") << QByteArray("0000") << "trailing";
    QTest::newRow("trailing after list") << QByteArray("820102ff") << "trailing";
    QTest::newRow("two values") << QByteArray("6161f6") << "trailing";
}

void tst_Value::test_decodeMalformed()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, reason);
    std::string error;
    const auto v = taskbench::decodeCbor(QByteArray::fromHex(input).toStdString(), &error);
    QVERIFY2(!v, ("decoded to " + taskbench::repr(*v)).c_str());
    QVERIFY2(QString::fromStdString(error).contains(reason), error.c_str());
    QVERIFY2(QString::fromStdString(error).contains("offset"), error.c_str());
    // Without an error string the result is the same.
    QVERIFY(!taskbench::decodeCbor(QByteArray::fromHex(input).toStdString()));
}

void tst_Value::test_decodeTruncatedAtEveryPrefix_data()
{
    QTest::addColumn<Value>("value");
    QTest::newRow("everything") << sampleValue();
    QTest::newRow("int64 min") << Value(kMin);
    QTest::newRow("double") << Value(0.1);
    QTest::newRow("ref") << Value::ref("some-key");
    QTest::newRow("deep") << nested(40, true);
}

void tst_Value::test_decodeTruncatedAtEveryPrefix()
{
    QFETCH(Value, value);
    const std::string full = taskbench::encodeCbor(value);
    for (std::size_t n = 0; n < full.size(); ++n) {
        std::string error;
        // A copy of exactly n bytes, so that reading past it is a sanitizer error.
        const std::string prefix = full.substr(0, n);
        QVERIFY2(!taskbench::decodeCbor(prefix, &error),
                 qPrintable(QStringLiteral("prefix of %1 bytes decoded").arg(n)));
        QVERIFY(!error.empty());
    }
    QVERIFY(taskbench::decodeCbor(full));
}

void tst_Value::test_decodeRandomGarbage()
{
    std::mt19937_64 rng(testSeed());
    int decoded = 0;
    for (int round = 0; round < 100000; ++round) {
        const std::size_t len = rng() % 24;
        std::string input(len, '\0');
        for (char &c : input)
            c = char(rng());
        std::string error;
        const auto v = taskbench::decodeCbor(input, &error);
        if (v) {
            ++decoded;
            // Whatever decodes is a proper value: its canonical form decodes to itself.
            const std::string canonical = taskbench::encodeCbor(*v);
            const auto again = taskbench::decodeCbor(canonical);
            QVERIFY(again && sameValue(*again, *v));
        } else {
            QVERIFY(!error.empty());
        }
    }
    qInfo("%d of 100000 random inputs were valid CBOR", decoded);
}

void tst_Value::test_decodeBitFlips()
{
    std::mt19937_64 rng(testSeed() + 1);
    const std::string valid = taskbench::encodeCbor(sampleValue());
    for (int round = 0; round < 20000; ++round) {
        std::string input = valid;
        const int flips = 1 + int(rng() % 4);
        for (int f = 0; f < flips; ++f)
            input[rng() % input.size()] ^= char(1u << (rng() % 8));
        std::string error;
        const auto v = taskbench::decodeCbor(input, &error);
        if (!v)
            QVERIFY(!error.empty());
        if (v) {
            const auto again = taskbench::decodeCbor(taskbench::encodeCbor(*v));
            QVERIFY(again && sameValue(*again, *v));
        }
    }
}

void tst_Value::test_decodeDepthLimit_data()
{
    QTest::addColumn<QByteArray>("prefix");
    QTest::addColumn<int>("depth");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("256 lists") << QByteArray("81") << 256 << true;
    QTest::newRow("257 lists") << QByteArray("81") << 257 << false;
    QTest::newRow("256 maps") << QByteArray("a16161") << 256 << true;
    QTest::newRow("257 maps") << QByteArray("a16161") << 257 << false;
    QTest::newRow("a million lists") << QByteArray("81") << 1000000 << false;
    QTest::newRow("a million maps") << QByteArray("a16161") << 1000000 << false;
}

void tst_Value::test_decodeDepthLimit()
{
    QFETCH(QByteArray, prefix);
    QFETCH(int, depth);
    QFETCH(bool, accepted);
    const std::string one = QByteArray::fromHex(prefix).toStdString();
    std::string input;
    input.reserve(one.size() * std::size_t(depth) + 1);
    for (int i = 0; i < depth; ++i)
        input += one;
    input += '\x01';
    std::string error;
    const auto v = taskbench::decodeCbor(input, &error);
    QCOMPARE(v.has_value(), accepted);
    if (!accepted)
        QVERIFY2(error.find("nesting deeper than 256") != std::string::npos, error.c_str());
}

void tst_Value::test_lyingLengthsDoNotAllocate()
{
    // 200 nested arrays that each claim 983040 items, each claim plausible on its own (that
    // many bytes follow), then one item fewer than the innermost claim. Reserving what each
    // level claims would take 200 * 983040 * sizeof(Value), over 10 GB.
    std::string input;
    for (int i = 0; i < 200; ++i)
        input += unhex("9a000f0000");
    input += std::string(983039, '\x01');
    const std::size_t before = peakRssKiB();
    for (int round = 0; round < 3; ++round) {
        std::string error;
        QVERIFY(!taskbench::decodeCbor(input, &error));
    }
    // A million one-byte items that are all there decode, at the size they really have.
    std::string honest = unhex("9a000f4240") + std::string(1000000, '\x01');
    const auto v = taskbench::decodeCbor(honest);
    QVERIFY(v && v->isList() && v->toList().size() == 1000000);
    const std::size_t grownMiB = (peakRssKiB() - before) / 1024;
    QVERIFY2(grownMiB < 512,
             qPrintable(QStringLiteral("peak memory grew by %1 MiB").arg(grownMiB)));
}

// ---------------------------------------------------------------------------------------
// typeName and repr

void tst_Value::test_typeName_data()
{
    QTest::addColumn<Value>("value");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("kind");
    QTest::newRow("null") << Value() << "null"
                          << "null";
    QTest::newRow("bool") << Value(true) << "bool"
                          << "bool";
    QTest::newRow("int") << Value(3) << "int"
                         << "int";
    QTest::newRow("float") << Value(3.0) << "float"
                           << "float";
    QTest::newRow("str") << Value("abc") << "str"
                         << "str";
    QTest::newRow("bytes") << Value(Bytes{std::vector<std::uint8_t>(16)}) << "bytes[16]"
                           << "bytes";
    QTest::newRow("list") << Value::list({1, 2, 3}) << "list[3]"
                          << "list";
    QTest::newRow("map") << map({{"a", 1}, {"b", 2}}) << "map[2]"
                         << "map";
    QTest::newRow("future") << Value::ref("k") << "future"
                            << "future";
}

void tst_Value::test_typeName()
{
    QFETCH(Value, value);
    QFETCH(QString, name);
    QFETCH(QString, kind);
    QCOMPARE(QString::fromStdString(value.typeName()), name);
    QCOMPARE(QString::fromLatin1(value.kindName()), kind);
}

void tst_Value::test_containsRefAndForEachRef()
{
    const Value v = Value::list(
        {1, Value::ref("a"), map({{"z", Value::ref("c")}, {"b", Value::list({Value::ref("b")})}})});
    QVERIFY(v.containsRef());
    QVERIFY(!sampleValue().toMap().at("ints").containsRef());
    std::vector<std::string> keys;
    v.forEachRef([&](const taskbench::FutureRef &r) { keys.push_back(r.key); });
    // Depth first, lists in order, maps in key order.
    QCOMPARE(keys, (std::vector<std::string>{"a", "b", "c"}));
}

void tst_Value::test_repr_data()
{
    QTest::addColumn<Value>("value");
    QTest::addColumn<QString>("expected");
    QTest::newRow("null") << Value() << "null";
    QTest::newRow("bools") << Value::list({true, false}) << "[true, false]";
    QTest::newRow("int") << Value(2) << "2";
    QTest::newRow("negative int") << Value(kMin) << "-9223372036854775808";
    QTest::newRow("float") << Value(3.5) << "3.5";
    QTest::newRow("whole float") << Value(2.0) << "2.0";
    QTest::newRow("tiny float") << Value(1e-7) << "1e-07";
    QTest::newRow("nan") << Value(std::numeric_limits<double>::quiet_NaN()) << "nan";
    QTest::newRow("-inf") << Value(-std::numeric_limits<double>::infinity()) << "-inf";
    QTest::newRow("string") << Value("abc") << "\"abc\"";
    QTest::newRow("string escapes") << Value("a\"b\\c\nd") << "\"a\\\"b\\\\c\\nd\"";
    QTest::newRow("list") << Value::list({1, 2, 3}) << "[1, 2, 3]";
    QTest::newRow("map") << map({{"a", 1}, {"b", "x"}}) << "{\"a\": 1, \"b\": \"x\"}";
    QTest::newRow("future") << Value::ref("inc-3f2a") << "<future inc-3f2a>";
    QTest::newRow("bytes") << bytes({0, 1}) << "b'\\x00\\x01'";
    QTest::newRow("printable bytes")
        << bytes({'h', 'i', '\'', '\\', '\n', 0xff}) << "b'hi\\'\\\\\\n\\xff'";
    QTest::newRow("nested") << Value::list({map({{"k", Value::ref("f")}}), Value::List{}})
                            << "[{\"k\": <future f>}, []]";
}

void tst_Value::test_repr()
{
    QFETCH(Value, value);
    QFETCH(QString, expected);
    QCOMPARE(QString::fromStdString(taskbench::repr(value)), expected);
}

void tst_Value::test_reprElides()
{
    Value::List many;
    for (int i = 0; i < 100000; ++i)
        many.push_back(i);
    const std::string list = taskbench::repr(Value(many));
    QCOMPARE(list.size(), std::size_t(80));
    QVERIFY(list.starts_with("[0, 1, 2, 3"));
    QVERIFY(list.ends_with("..."));

    const std::string text = taskbench::repr(Value(std::string(1000000, 'a')), 20);
    QCOMPARE(text, std::string("\"aaaaaaaaaaaaaaaa..."));

    // Never cuts a multi-byte character in half.
    const std::string umlauts = taskbench::repr(Value("äääääääääääääääääääää"), 12);
    QVERIFY(umlauts.size() <= 12);
    QVERIFY(umlauts.ends_with("..."));
    QVERIFY(QString::fromUtf8(umlauts.data(), qsizetype(umlauts.size())).toUtf8().toStdString()
            == umlauts);

    // Exactly at the limit: nothing elided.
    QCOMPARE(taskbench::repr(Value("abcd"), 6), std::string("\"abcd\""));
    QCOMPARE(taskbench::repr(Value("abcde"), 6), std::string("\"ab..."));
    QCOMPARE(taskbench::repr(Value::list({1, 2}), std::numeric_limits<std::size_t>::max()),
             std::string("[1, 2]"));
}

// ---------------------------------------------------------------------------------------
// JSON

void tst_Value::test_toJson_data()
{
    QTest::addColumn<Value>("value");
    QTest::addColumn<QString>("expected");
    QTest::newRow("null") << Value() << "null";
    QTest::newRow("int") << Value(2) << "2";
    QTest::newRow("int64 max") << Value(kMax) << "9223372036854775807";
    QTest::newRow("int64 min") << Value(kMin) << "-9223372036854775808";
    QTest::newRow("whole float keeps its point") << Value(2.0) << "2.0";
    QTest::newRow("float") << Value(0.1) << "0.1";
    QTest::newRow("big float") << Value(1e300) << "1e+300";
    QTest::newRow("-0.0") << Value(-0.0) << "-0.0";
    QTest::newRow("nan is null") << Value(std::numeric_limits<double>::quiet_NaN()) << "null";
    QTest::newRow("string escapes")
        << Value(std::string("q\"b\\\n\t\x01\x7f", 8)) << "\"q\\\"b\\\\\\n\\t\\u0001\x7f\"";
    QTest::newRow("utf-8 passes") << Value("😀") << "\"😀\"";
    QTest::newRow("bad utf-8 replaced") << Value(std::string("a\xff", 2)) << "\"a\\ufffd\"";
    QTest::newRow("bytes") << bytes({0, 1}) << "{\"$bytes\":\"AAE=\"}";
    QTest::newRow("ref") << Value::ref("k") << "{\"$ref\":\"k\"}";
    QTest::newRow("list") << Value::list({1, "a", Value::List{}, map({})}) << "[1,\"a\",[],{}]";
    QTest::newRow("map sorted") << map({{"b", 1}, {"a", Value::ref("x")}})
                                << "{\"a\":{\"$ref\":\"x\"},\"b\":1}";
}

void tst_Value::test_toJson()
{
    QFETCH(Value, value);
    QFETCH(QString, expected);
    QCOMPARE(QString::fromStdString(taskbench::toJson(value)), expected);
}

void tst_Value::test_toJsonPretty()
{
    const Value v = map({{"a", Value::list({1, 2})}, {"b", map({})}, {"c", Value::ref("k")}});
    QCOMPARE(taskbench::toJson(v, true),
             std::string("{\n"
                         "    \"a\": [\n"
                         "        1,\n"
                         "        2\n"
                         "    ],\n"
                         "    \"b\": {},\n"
                         "    \"c\": {\"$ref\": \"k\"}\n"
                         "}"));
}

void tst_Value::test_jsonRoundTrip_data()
{
    QTest::addColumn<Value>("value");
    QTest::newRow("everything") << sampleValue();
    QTest::newRow("int64 max") << Value(kMax);
    QTest::newRow("int64 min") << Value(kMin);
    QTest::newRow("int64 max - 1") << Value(kMax - 1);
    QTest::newRow("2^53 + 1") << Value((std::int64_t(1) << 53) + 1);
    QTest::newRow("whole float") << Value(3.0);
    QTest::newRow("float 1e16") << Value(1e16);
    QTest::newRow("float 2^63") << Value(9223372036854775808.0);
    QTest::newRow("denormal") << Value(std::numeric_limits<double>::denorm_min());
    QTest::newRow("max double") << Value(std::numeric_limits<double>::max());
    QTest::newRow("control chars") << Value(std::string("\0\x1f\x7f", 3));
    QTest::newRow("astral plane") << Value("𝄞 😀");
    QTest::newRow("all bytes") << [] {
        Bytes b;
        for (int i = 0; i < 256; ++i)
            b.data.push_back(std::uint8_t(i));
        return Value(b);
    }();
    QTest::newRow("nested refs") << Value::list(
        {Value::ref("a"), map({{"x", Value::list({Value::ref("b")})}})});
    QTest::newRow("deep") << nested(taskbench::kMaxDecodeDepth);
}

void tst_Value::test_jsonRoundTrip()
{
    QFETCH(Value, value);
    for (const bool pretty : {false, true}) {
        std::string error;
        const auto back = taskbench::fromJson(taskbench::toJson(value, pretty), &error);
        QVERIFY2(back, error.c_str());
        QVERIFY2(*back == value, taskbench::repr(*back).c_str());
    }
}

void tst_Value::test_fromJson_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<Value>("expected");
    QTest::newRow("int") << "42" << Value(42);
    QTest::newRow("negative zero int") << "-0" << Value(0);
    QTest::newRow("2.0 is a float") << "2.0" << Value(2.0);
    QTest::newRow("1e3 is a float") << "1e3" << Value(1000.0);
    QTest::newRow("1E+3") << "1E+3" << Value(1000.0);
    QTest::newRow("int64 max") << "9223372036854775807" << Value(kMax);
    QTest::newRow("int64 min") << "-9223372036854775808" << Value(kMin);
    QTest::newRow("above int64 is a float")
        << "9223372036854775808" << Value(9223372036854775808.0);
    QTest::newRow("below int64 is a float")
        << "-9223372036854775809" << Value(-9223372036854775809.0);
    QTest::newRow("underflow is zero") << "1e-400" << Value(0.0);
    QTest::newRow("true") << " true " << Value(true);
    QTest::newRow("null") << "null" << Value();
    QTest::newRow("string escapes") << R"("a\"\\\/\b\f\n\r\tb")" << Value("a\"\\/\b\f\n\r\tb");
    QTest::newRow("unicode escape") << R"("\u00e9\u4e16")" << Value("é世");
    QTest::newRow("surrogate pair") << R"("\ud83d\ude00")" << Value("😀");
    QTest::newRow("lone high surrogate") << R"("\ud800x")" << Value("\xef\xbf\xbdx");
    QTest::newRow("lone low surrogate") << R"("\udc00")" << Value("\xef\xbf\xbd");
    QTest::newRow("escaped NUL") << R"("a\u0000b")" << Value(std::string("a\0b", 3));
    QTest::newRow("byte order mark") << "\xef\xbb\xbf[1]" << Value::list({1});
    QTest::newRow("list") << "[1, 2.5, \"x\", [], {}]"
                          << Value::list({1, 2.5, "x", Value::List{}, map({})});
    QTest::newRow("ref") << R"({"$ref": "k"})" << Value::ref("k");
    QTest::newRow("bytes") << R"({"$bytes": "AAE="})" << bytes({0, 1});
    QTest::newRow("empty bytes") << R"({"$bytes": ""})" << Value(Bytes{});
    QTest::newRow("nested ref") << R"({"a": [1, {"$ref": "x"}], "b": {"c": {"$ref": "y"}}})"
                                << map({{"a", Value::list({1, Value::ref("x")})},
                                        {"b", map({{"c", Value::ref("y")}})}});
    QTest::newRow("$ref with a sibling is a map")
        << R"({"$ref": "k", "other": 1})" << map({{"$ref", "k"}, {"other", 1}});
}

void tst_Value::test_fromJson()
{
    QFETCH(QString, text);
    QFETCH(Value, expected);
    std::string error;
    const auto v = taskbench::fromJson(text.toStdString(), &error);
    QVERIFY2(v, error.c_str());
    QVERIFY2(*v == expected, taskbench::repr(*v).c_str());
    if (expected.isDouble())
        QCOMPARE(std::signbit(v->toDouble()), std::signbit(expected.toDouble()));
}

void tst_Value::test_fromJsonErrors_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("reason");
    QTest::newRow("empty") << ""
                           << "line 1, column 1 (offset 0): expected a value";
    QTest::newRow("only space") << "  \n "
                                << "line 2, column 2";
    QTest::newRow("bare word") << "abc"
                               << "expected a value, found 'a'";
    QTest::newRow("unclosed list") << "[1,"
                                   << "expected a value, found end of input";
    QTest::newRow("trailing comma") << "[1,]"
                                    << "expected a value, found ']'";
    QTest::newRow("missing colon") << "{\"a\" 1}"
                                   << "expected ':'";
    QTest::newRow("single quotes") << "{'a': 1}"
                                   << "expected a string key";
    QTest::newRow("trailing text") << "[1] x"
                                   << "line 1, column 5 (offset 4): unexpected text";
    QTest::newRow("two values") << "1 2"
                                << "unexpected text";
    QTest::newRow("leading zero") << "01"
                                  << "unexpected text";
    QTest::newRow("lone minus") << "-"
                                << "expected a digit";
    QTest::newRow("dot without digits") << "1."
                                        << "expected a digit after '.'";
    QTest::newRow("NaN") << "NaN"
                         << "expected a value";
    QTest::newRow("overflow") << "1e999"
                              << "out of range";
    QTest::newRow("bad escape") << R"("\x")"
                                << "invalid escape";
    QTest::newRow("bad unicode escape") << R"("\u12g4")"
                                        << "invalid hex digit";
    QTest::newRow("unterminated string") << "\"abc"
                                         << "line 1, column 1 (offset 0): unterminated";
    QTest::newRow("raw newline in string") << "\"a\nb\""
                                           << "unescaped control character";
    QTest::newRow("duplicate key") << R"({"a": 1, "a": 2})"
                                   << "duplicate key \"a\"";
    QTest::newRow("$ref not a string") << R"({"$ref": 1})"
                                       << "\"$ref\" must be a string";
    QTest::newRow("$bytes not base64") << R"({"$bytes": "!!"})"
                                       << "not valid base64";
    QTest::newRow("$bytes not a string") << R"({"$bytes": [1]})"
                                         << "must be a base64 string";
    QTest::newRow("position in later line") << "{\n  \"a\": [1,\n  2,,]\n}"
                                            << "line 3, column 5 (offset 17)";
    QTest::newRow("257 levels") << QString(257, '[') + QString(257, ']')
                                << "nesting deeper than 256";
    QTest::newRow("a million levels") << QString(1000000, '[') << "nesting deeper than 256";
}

void tst_Value::test_fromJsonErrors()
{
    QFETCH(QString, text);
    QFETCH(QString, reason);
    std::string error;
    const auto v = taskbench::fromJson(text.toStdString(), &error);
    QVERIFY2(!v, ("parsed as " + taskbench::repr(*v)).c_str());
    QVERIFY2(QString::fromStdString(error).contains(reason), error.c_str());
}

// ---------------------------------------------------------------------------------------
// Command-line arguments and tokens

void tst_Value::test_parseArgument_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<Value>("expected");
    QTest::newRow("int") << "1" << Value(1);
    QTest::newRow("negative int") << "-5" << Value(-5);
    QTest::newRow("float") << "1.5" << Value(1.5);
    QTest::newRow("quoted string") << "\"a\"" << Value("a");
    QTest::newRow("quoted number stays a string") << "\"1\"" << Value("1");
    QTest::newRow("bare word") << "abc" << Value("abc");
    QTest::newRow("path") << "/tmp/data.txt" << Value("/tmp/data.txt");
    QTest::newRow("words with spaces") << "hello world" << Value("hello world");
    QTest::newRow("empty") << "" << Value("");
    QTest::newRow("true") << "true" << Value(true);
    QTest::newRow("True is a word") << "True" << Value("True");
    QTest::newRow("null") << "null" << Value();
    QTest::newRow("list") << "[1,2]" << Value::list({1, 2});
    QTest::newRow("map") << R"({"a": [1, 2.0]})" << map({{"a", Value::list({1, 2.0})}});
    QTest::newRow("ref") << R"({"$ref":"k"})" << Value::ref("k");
    QTest::newRow("broken JSON is a word") << "[1,2" << Value("[1,2");
    QTest::newRow("version-like word") << "1.2.3" << Value("1.2.3");
}

void tst_Value::test_parseArgument()
{
    QFETCH(QString, text);
    QFETCH(Value, expected);
    const Value v = taskbench::parseArgument(text.toStdString());
    QVERIFY2(v == expected, taskbench::repr(v).c_str());
}

void tst_Value::test_tokenize()
{
    using taskbench::tokenize;
    const std::string t = tokenize("inc", {1});
    QCOMPARE(t.size(), std::size_t(32));
    QVERIFY(std::all_of(t.begin(), t.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }));
    // MD5 of the canonical CBOR [ "inc", [1] ] (82 63 696e63 81 01): pinned, because keys
    // must not change between releases or machines.
    QCOMPARE(t, std::string("269ac070d53262b80ee5ba51554afc5d"));
    QCOMPARE(tokenize("tutorial.add", {1, 2}), std::string("6e56496ca14a74adf4f3ab6722ba03fe"));

    QCOMPARE(tokenize("inc", {1}), t);
    QVERIFY(tokenize("inc", {2}) != t);
    QVERIFY(tokenize("inc2", {1}) != t);
    QVERIFY(tokenize("inc", {1.0}) != t);
    QVERIFY(tokenize("inc", {"1"}) != t);
    QVERIFY(tokenize("inc", {1, 1}) != t);
    QVERIFY(tokenize("inc", {Value::list({1})}) != t);
    QVERIFY(tokenize("inc", {}) != tokenize("inc", {Value()}));
    QVERIFY(tokenize("f", {Value::ref("a")}) != tokenize("f", {Value("a")}));
    // Equal maps built in different orders give equal tokens.
    Value::Map a;
    a["x"] = 1;
    a["y"] = 2;
    Value::Map b;
    b["y"] = 2;
    b["x"] = 1;
    QCOMPARE(tokenize("f", {Value(a)}), tokenize("f", {Value(b)}));
    // The same on another thread (the encoding buffer is per thread).
    std::string other;
    std::thread([&] { other = tokenize("inc", {1}); }).join();
    QCOMPARE(other, t);
}

void tst_Value::test_randomToken()
{
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) {
        const std::string t = taskbench::randomToken();
        QCOMPARE(t.size(), std::size_t(32));
        QVERIFY(std::all_of(t.begin(), t.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        }));
        seen.insert(t);
    }
    QCOMPARE(seen.size(), std::size_t(10000));
    // Threads get their own, differently seeded generators.
    std::vector<std::string> fromThreads(4);
    std::vector<std::thread> threads;
    for (auto &slot : fromThreads)
        threads.emplace_back([&slot] { slot = taskbench::randomToken(); });
    for (auto &t : threads)
        t.join();
    for (const auto &t : fromThreads)
        QVERIFY(seen.insert(t).second);
}

QTEST_MAIN(tst_Value)
#include "tst_value.moc"
