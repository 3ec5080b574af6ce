// The worker protocol (core/src/wire/protocol_p.h): every message round-trips, batches of many
// items survive, a frame arrives whole however the stream is cut, and hostile input (cut at
// every length, random bytes from a seeded generator, absurd lengths and counts, the wrong
// version) is an error, never a crash or a huge allocation.
#include "wire/protocol_p.h"

#include "taskbench/valuecodec.h"

#include <QCryptographicHash>
#include <QtTest>

#include <cstdlib>
#include <random>
#include <thread>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace taskbench;
using namespace taskbench::detail;
using namespace taskbench::detail::proto;

namespace {

Value sampleValue()
{
    Value::Map m;
    m["name"] = "x";
    m["list"] = Value::list({1, 2.5, "three", nullptr, true});
    m["bytes"] = Value(Bytes{{0, 1, 2, 255}});
    m["ref"] = Value::ref("#42");
    return Value(std::move(m));
}

Completion sampleCompletion(std::uint64_t task, bool ok, bool remote)
{
    Completion c;
    c.task = task;
    c.attempt = 2;
    c.ok = ok;
    c.thread = 3;
    c.startUs = 1'700'000'000'000'000;
    c.endUs = c.startUs + 17;
    if (ok && !remote)
        c.result = sampleValue();
    if (remote) {
        c.remote = true;
        c.typeName = "bytes[100000]";
        c.bytes = 100005;
    }
    if (!ok) {
        c.errorType = "ValueError";
        c.errorMessage = "bad \xff input"; // not UTF-8: must pass untouched
    }
    c.output = "printed\n";
    return c;
}

std::vector<Message> sampleMessages()
{
    std::vector<Message> out;
    Hello h;
    h.pid = 1234;
    h.worker = 7;
    h.threads = 4;
    h.token = "0123456789abcdef";
    out.push_back(h);
    out.push_back(Hello{});
    Execute e;
    e.items.push_back({1, 1, "bench.inc", "inc-abc", {Value(41)}, false});
    e.items.push_back({2, 3, "bench.sum", "sum-def", {Value::list({Value::ref("#1"), 5})}, true});
    e.items.push_back({3, 1, "bench.noop", "", {}, false});
    out.push_back(e);
    Completed c;
    c.items.push_back(sampleCompletion(1, true, false));
    c.items.push_back(sampleCompletion(2, true, true));
    c.items.push_back(sampleCompletion(3, false, false));
    Completion back;
    back.task = 4;
    back.attempt = 1;
    back.started = false;
    c.items.push_back(back);
    out.push_back(c);
    out.push_back(LogLine{9, "a log line"});
    out.push_back(Progress{9, 0.25, "1/4"});
    out.push_back(Fetch{{1, 2, 3, std::uint64_t(1) << 60}});
    Fetched f;
    f.items.push_back({1, sampleValue(), {}});
    f.items.push_back({2, std::nullopt, "not held"});
    out.push_back(f);
    out.push_back(Store{77, sampleValue()});
    out.push_back(Release{{77, 78}});
    out.push_back(Cancel{5});
    out.push_back(Drain{});
    out.push_back(Drained{{5, 6}});
    out.push_back(Shutdown{});
    return out;
}

/// Decodes one whole frame (header included).
std::optional<Message> decodeFrame(const std::string &frame, std::string *error = nullptr)
{
    FrameReader r;
    r.append(frame);
    std::string_view payload;
    if (r.next(&payload, error) != FrameReader::Next::Frame)
        return std::nullopt;
    return decodeMessage(payload, error);
}

std::uint64_t testSeed()
{
    if (const char *s = std::getenv("TASKBENCH_TEST_SEED"))
        return std::strtoull(s, nullptr, 10);
    return std::random_device{}();
}

std::string toHex(std::string_view bytes)
{
    return QByteArray(bytes.data(), qsizetype(bytes.size())).toHex().toStdString();
}

/// Size and SHA-256 of test_knownStream's bytes, taken from the protocol before its message
/// layouts were described once.
constexpr std::size_t kKnownStreamBytes = 8466;
constexpr const char *kKnownStreamSha256
    = "e739804a15fc2e1ec639478873ca9874cc581c0439e276d37e3aaf569de48459";

} // namespace

class tst_Protocol : public QObject
{
    Q_OBJECT

private slots:
    void test_roundTrip_data();
    void test_roundTrip();
    void test_knownBytes_data();
    void test_knownBytes();
    void test_knownStream();
    void test_fieldsSurvive();
    void test_batchFrame();
    void test_batchFrameHeaderMatches();
    void test_streamCutAnywhere();
    void test_truncatedAtEveryLength();
    void test_randomGarbage();
    void test_mutatedFrames();
    void test_oversizedLength();
    void test_hostileCounts();
    void test_wrongVersion();
    void test_frameTooLargeToSend();
    void test_sizeBound();
    void test_readFromSocket();
};

void tst_Protocol::test_roundTrip_data()
{
    QTest::addColumn<int>("index");
    const std::vector<Message> messages = sampleMessages();
    for (std::size_t i = 0; i < messages.size(); ++i)
        QTest::addRow("%zu-%s", i, messageTypeName(messages[i])) << int(i);
}

void tst_Protocol::test_roundTrip()
{
    QFETCH(int, index);
    const Message m = sampleMessages()[std::size_t(index)];
    const std::string frame = encodeFrame(m);
    std::string error;
    const std::optional<Message> back = decodeFrame(frame, &error);
    QVERIFY2(back, error.c_str());
    QCOMPARE(back->index(), m.index());
    // The encoding is deterministic: equal bytes mean equal messages.
    QCOMPARE(encodeFrame(*back), frame);
}

void tst_Protocol::test_knownBytes_data()
{
    // Spelled out byte by byte: the wire format may not change without kProtocolVersion.
    QTest::addColumn<int>("index");
    QTest::addColumn<QString>("hex");
    // {"type": "cancel", "task": 5}
    QTest::newRow("cancel") << 0
                            << QString("00000013"
                                       "a2"
                                       "6474797065"
                                       "6663616e63656c"
                                       "647461736b05");
    // {"type": "hello", "version": 2, "pid": 1234, "worker": 7, "threads": -1, "token": "ab"}
    QTest::newRow("hello") << 1
                           << QString("00000036"
                                      "a6"
                                      "6474797065"
                                      "6568656c6c6f"
                                      "6776657273696f6e02"
                                      "63706964"
                                      "1904d2"
                                      "66776f726b657207"
                                      "677468726561647320"
                                      "65746f6b656e"
                                      "626162");
    // {"type": "progress", "task": 9, "fraction": 0.25 (always 9 bytes), "text": "1/4"}
    QTest::newRow("progress") << 2
                              << QString("00000030"
                                         "a4"
                                         "6474797065"
                                         "6870726f6772657373"
                                         "647461736b09"
                                         "686672616374696f6e"
                                         "fb3fd0000000000000"
                                         "6474657874"
                                         "63312f34");
}

void tst_Protocol::test_knownBytes()
{
    QFETCH(int, index);
    QFETCH(QString, hex);
    Hello hello;
    hello.pid = 1234;
    hello.worker = 7;
    hello.threads = -1;
    hello.token = "ab";
    const std::vector<Message> messages = {Cancel{5}, hello, Progress{9, 0.25, "1/4"}};
    const Message &m = messages[std::size_t(index)];
    const std::string frame = encodeFrame(m);
    QCOMPARE(QString::fromStdString(toHex(frame)), hex);
    const auto back = decodeFrame(frame);
    QVERIFY(back);
    QCOMPARE(encodeFrame(*back), frame);
}

void tst_Protocol::test_knownStream()
{
    // Every sample message and every batch form, as the scheduler and the worker write them:
    // their digest was taken from the protocol as it was before its layouts were described
    // once (messages_p.h), and must not move.
    std::string stream;
    for (const Message &m : sampleMessages())
        appendFrame(stream, m);
    auto fn = std::make_shared<FunctionInfo>();
    fn->qualifiedName = "bench.inc";
    std::atomic<bool> cancelled{true};
    BatchFrame execute(stream, BatchFrame::Kind::Execute);
    for (int i = 0; i < 40; ++i) {
        Assignment a;
        a.task = std::uint64_t(i) * 1000;
        a.attempt = i % 3;
        a.function = i % 5 ? fn : nullptr;
        a.key = "inc-" + std::to_string(i);
        a.args = {Value(i), Value(-i), Value(i * 0.5), Value::ref("#" + std::to_string(i))};
        a.cancel = i % 7 == 0 ? &cancelled : nullptr;
        execute.add(a);
    }
    QVERIFY(execute.finish());
    BatchFrame completed(stream, BatchFrame::Kind::Completed);
    for (std::uint64_t t = 0; t < 30; ++t)
        completed.add(sampleCompletion(t * 77, t % 3 != 0, t % 5 == 0));
    QVERIFY(completed.finish());
    BatchFrame fetched(stream, BatchFrame::Kind::Fetched);
    fetched.addFetched(1, sampleValue());
    fetched.add(FetchedItem{2, std::nullopt, "gone"});
    fetched.add(FetchedItem{3, Value(3.5), {}});
    QVERIFY(fetched.finish());
    std::string items;
    appendCompletionItem(items, sampleCompletion(5, false, false));
    stream += batchFrameHeader(BatchFrame::Kind::Completed, 1, items.size()) + items;

    const QByteArray digest
        = QCryptographicHash::hash(QByteArrayView(stream.data(), qsizetype(stream.size())),
                                   QCryptographicHash::Sha256)
              .toHex();
    qInfo("%zu bytes, sha256 %s", stream.size(), digest.constData());
    QCOMPARE(stream.size(), kKnownStreamBytes);
    QCOMPARE(digest, QByteArray(kKnownStreamSha256));

    // And it reads back frame by frame.
    FrameReader reader;
    reader.append(stream);
    std::string_view payload;
    std::size_t frames = 0;
    while (reader.next(&payload) == FrameReader::Next::Frame) {
        std::string error;
        QVERIFY2(decodeMessage(payload, &error), error.c_str());
        ++frames;
    }
    QCOMPARE(frames, sampleMessages().size() + 4);
    QCOMPARE(reader.buffered(), std::size_t(0));
}

void tst_Protocol::test_fieldsSurvive()
{
    std::string frame;
    appendFrame(frame, sampleMessages()[3]); // Completed
    const auto m = decodeFrame(frame);
    QVERIFY(m);
    const auto &items = std::get<Completed>(*m).items;
    QCOMPARE(items.size(), std::size_t(4));
    QCOMPARE(items[0].result, sampleValue());
    QCOMPARE(items[0].output, std::string("printed\n"));
    QCOMPARE(items[0].thread, 3);
    QCOMPARE(items[0].endUs - items[0].startUs, std::int64_t(17));
    QVERIFY(items[1].remote);
    QVERIFY(items[1].result.isNull());
    QCOMPARE(items[1].typeName, std::string("bytes[100000]"));
    QCOMPARE(items[1].bytes, std::uint64_t(100005));
    QVERIFY(!items[2].ok);
    QCOMPARE(items[2].errorMessage, std::string("bad \xff input"));
    QVERIFY(items[0].started);
    QVERIFY(!items[3].started);

    const auto e = decodeFrame(encodeFrame(sampleMessages()[2]));
    QVERIFY(e);
    const auto &ex = std::get<Execute>(*e).items;
    QCOMPARE(ex[1].function, std::string("bench.sum"));
    QCOMPARE(ex[1].args[0], Value::list({Value::ref("#1"), 5}));
    QVERIFY(ex[1].cancelled);
    QVERIFY(!ex[0].cancelled);
    QCOMPARE(ex[1].attempt, 3);
}

void tst_Protocol::test_batchFrame()
{
    auto fn = std::make_shared<FunctionInfo>();
    fn->qualifiedName = "bench.inc";
    std::atomic<bool> cancelled{true};
    std::string out = "prefix"; // a frame may start mid-buffer
    BatchFrame frame(out, BatchFrame::Kind::Execute);
    constexpr int kItems = 5000;
    for (int i = 0; i < kItems; ++i) {
        Assignment a;
        a.task = std::uint64_t(i);
        a.attempt = 1;
        a.function = fn;
        a.key = "inc-" + std::to_string(i);
        a.args = {Value(i)};
        a.cancel = i == 7 ? &cancelled : nullptr;
        frame.add(a);
    }
    QCOMPARE(frame.count(), std::uint32_t(kItems));
    QVERIFY(frame.finish());
    QCOMPARE(out.substr(0, 6), std::string("prefix"));
    const auto m = decodeFrame(out.substr(6));
    QVERIFY(m);
    const auto &items = std::get<Execute>(*m).items;
    QCOMPARE(int(items.size()), kItems);
    for (int i = 0; i < kItems; ++i) {
        QCOMPARE(items[std::size_t(i)].task, std::uint64_t(i));
        QCOMPARE(items[std::size_t(i)].args[0], Value(i));
        QCOMPARE(items[std::size_t(i)].cancelled, i == 7);
    }

    // An empty batch leaves nothing behind.
    std::string empty = "x";
    BatchFrame none(empty, BatchFrame::Kind::Completed);
    QVERIFY(!none.finish());
    QCOMPARE(empty, std::string("x"));
}

void tst_Protocol::test_batchFrameHeaderMatches()
{
    std::string items;
    for (std::uint64_t t = 0; t < 300; ++t)
        appendCompletionItem(items, sampleCompletion(t, t % 3 != 0, t % 5 == 0));
    std::string viaFrame;
    BatchFrame frame(viaFrame, BatchFrame::Kind::Completed);
    for (std::uint64_t t = 0; t < 300; ++t)
        frame.add(sampleCompletion(t, t % 3 != 0, t % 5 == 0));
    QVERIFY(frame.finish());
    const std::string viaHeader
        = batchFrameHeader(BatchFrame::Kind::Completed, 300, items.size()) + items;
    QCOMPARE(viaHeader, viaFrame);
    const auto m = decodeFrame(viaHeader);
    QVERIFY(m);
    QCOMPARE(std::get<Completed>(*m).items.size(), std::size_t(300));
}

void tst_Protocol::test_streamCutAnywhere()
{
    const std::uint64_t seed = testSeed();
    qInfo("seed %llu (set TASKBENCH_TEST_SEED to repeat)", (unsigned long long)seed);
    std::mt19937_64 rng(seed);
    const std::vector<Message> messages = sampleMessages();
    std::string stream;
    for (int round = 0; round < 20; ++round)
        for (const Message &m : messages)
            appendFrame(stream, m);

    for (int trial = 0; trial < 50; ++trial) {
        FrameReader reader;
        std::size_t pos = 0, seen = 0;
        while (pos < stream.size()) {
            const std::size_t n
                = std::min<std::size_t>(stream.size() - pos, trial == 0 ? 1 : rng() % 300 + 1);
            reader.append(std::string_view(stream).substr(pos, n));
            pos += n;
            std::string_view payload;
            while (reader.next(&payload) == FrameReader::Next::Frame) {
                const auto m = decodeMessage(payload);
                QVERIFY(m);
                QCOMPARE(m->index(), messages[seen % messages.size()].index());
                ++seen;
            }
        }
        QCOMPARE(seen, 20 * messages.size());
        QCOMPARE(reader.buffered(), std::size_t(0));
    }
}

void tst_Protocol::test_truncatedAtEveryLength()
{
    for (const Message &m : sampleMessages()) {
        const std::string frame = encodeFrame(m);
        const std::string_view payload = std::string_view(frame).substr(kFrameHeaderBytes);
        for (std::size_t n = 0; n < payload.size(); ++n) {
            std::string error;
            QVERIFY2(!decodeMessage(payload.substr(0, n), &error),
                     qPrintable(QString("%1 cut at %2 decoded").arg(messageTypeName(m)).arg(n)));
            QVERIFY(!error.empty());
        }
        // A frame cut anywhere is simply incomplete.
        for (std::size_t n = 0; n < frame.size(); ++n) {
            FrameReader r;
            r.append(std::string_view(frame).substr(0, n));
            std::string_view p;
            QCOMPARE(r.next(&p), FrameReader::Next::NeedMore);
        }
        // Trailing bytes after the message are an error too.
        QVERIFY(!decodeMessage(std::string(payload) + '\0'));
    }
}

void tst_Protocol::test_randomGarbage()
{
    const std::uint64_t seed = testSeed();
    qInfo("seed %llu (set TASKBENCH_TEST_SEED to repeat)", (unsigned long long)seed);
    std::mt19937_64 rng(seed);
    int decoded = 0;
    for (int i = 0; i < 200'000; ++i) {
        std::string bytes(rng() % 64, '\0');
        for (char &c : bytes)
            c = char(rng());
        // Half of them start like a message, to get past the first checks.
        if (i % 2 == 0 && bytes.size() > 8) {
            const std::string head = "\xa3\x64type\x67"
                                     "execute";
            bytes.replace(0, std::min(bytes.size(), head.size()), head);
        }
        std::string error;
        if (decodeMessage(bytes, &error))
            ++decoded;
        else
            QVERIFY(!error.empty());
        FrameReader r(1 << 20);
        r.append(bytes);
        std::string_view payload;
        while (r.next(&payload) == FrameReader::Next::Frame)
            (void)decodeMessage(payload);
    }
    qInfo("%d of 200000 random inputs happened to decode", decoded);
}

void tst_Protocol::test_mutatedFrames()
{
    const std::uint64_t seed = testSeed();
    qInfo("seed %llu (set TASKBENCH_TEST_SEED to repeat)", (unsigned long long)seed);
    std::mt19937_64 rng(seed);
    const std::vector<Message> messages = sampleMessages();
    for (int i = 0; i < 50'000; ++i) {
        std::string payload
            = encodeFrame(messages[rng() % messages.size()]).substr(kFrameHeaderBytes);
        const int flips = int(rng() % 4) + 1;
        for (int f = 0; f < flips; ++f)
            payload[rng() % payload.size()] = char(rng());
        std::string error;
        if (!decodeMessage(payload, &error))
            QVERIFY(!error.empty());
    }
}

void tst_Protocol::test_oversizedLength()
{
    for (const std::uint32_t len : {std::uint32_t(0xffffffff), std::uint32_t(kMaxFrameBytes + 1)}) {
        FrameReader r;
        const char header[4] = {char(len >> 24), char(len >> 16), char(len >> 8), char(len)};
        r.append(std::string_view(header, 4));
        r.append("abc");
        std::string_view payload;
        std::string error;
        QCOMPARE(r.next(&payload, &error), FrameReader::Next::Error);
        QVERIFY(error.find("exceeds") != std::string::npos);
        QCOMPARE(r.next(&payload, &error), FrameReader::Next::Error); // stays failed
    }
    // The largest legal length with little data: waits, holding only what arrived.
    FrameReader r;
    const std::uint32_t len = std::uint32_t(kMaxFrameBytes);
    const char header[4] = {char(len >> 24), char(len >> 16), char(len >> 8), char(len)};
    r.append(std::string_view(header, 4));
    r.append("tiny");
    std::string_view payload;
    QCOMPARE(r.next(&payload), FrameReader::Next::NeedMore);
    QCOMPARE(r.buffered(), std::size_t(8));
    // A reader with a small limit (the scheduler's, for strangers' handshakes).
    FrameReader small(64);
    small.append(encodeFrame(sampleMessages()[2]));
    QCOMPARE(small.next(&payload), FrameReader::Next::Error);
}

void tst_Protocol::test_hostileCounts()
{
    std::string error;
    // {"type": "execute", "items": [<2^32-1 items>]} with nothing after.
    std::string p = "\xa2\x64type\x67"
                    "execute\x65items\x9a\xff\xff\xff\xff";
    QVERIFY(!decodeMessage(p, &error));
    QVERIFY2(error.find("array") != std::string::npos, error.c_str());
    // A fetch claiming 2^64-1 ids.
    p = "\xa2\x64type\x65"
        "fetch\x65tasks\x9b\xff\xff\xff\xff\xff\xff\xff\xff";
    QVERIFY(!decodeMessage(p, &error));
    // A map header claiming more entries than bytes.
    p = "\xbb\x7f\xff\xff\xff\xff\xff\xff\xff";
    QVERIFY(!decodeMessage(p, &error));
    // A string longer than the frame.
    p = "\xa2\x64type\x63log\x64line\x7a\x7f\xff\xff\xff";
    QVERIFY(!decodeMessage(p, &error));
    // Deep nesting inside a value.
    std::string deep(100'000, '\x81');
    deep += '\x01';
    p = std::string("\xa3\x64type\x65store\x64task\x01\x65value") + deep;
    QVERIFY(!decodeMessage(p, &error));
    QVERIFY2(error.find("nesting") != std::string::npos, error.c_str());
    // Indefinite lengths are not part of the protocol.
    p = "\xbf\x64type\x68shutdown\xff";
    QVERIFY(!decodeMessage(p, &error));
    // Missing required fields, unknown type, "type" not first.
    QVERIFY(!decodeMessage(std::string("\xa1\x64type\x65store"), &error));
    QVERIFY(!decodeMessage(std::string("\xa1\x64type\x63zap"), &error));
    QVERIFY2(error.find("unknown message type") != std::string::npos, error.c_str());
    QVERIFY(!decodeMessage(std::string("\xa1\x64task\x01"), &error));
    QVERIFY(!decodeMessage(std::string(), &error));
}

void tst_Protocol::test_wrongVersion()
{
    Hello h;
    h.token = "secret";
    QCOMPARE(checkHello(h, "secret"), std::string());
    QCOMPARE(checkHello(h), std::string());
    QCOMPARE(checkHello(h, "other"), std::string("wrong handshake token"));
    for (const std::uint32_t v : {0u, kProtocolVersion + 1, 0xffffffffu}) {
        h.version = v;
        const auto back = decodeFrame(encodeFrame(h));
        QVERIFY(back);
        QCOMPARE(std::get<Hello>(*back).version, v);
        const std::string why = checkHello(std::get<Hello>(*back), "secret");
        QVERIFY2(why.find("protocol version mismatch") != std::string::npos, why.c_str());
        QVERIFY(why.find(std::to_string(v)) != std::string::npos);
    }
}

void tst_Protocol::test_frameTooLargeToSend()
{
    std::string out = "keep";
    Store s;
    s.task = 1;
    s.value = Value(Bytes{std::vector<std::uint8_t>(kMaxFrameBytes + 1)});
    QVERIFY_THROWS_EXCEPTION(std::length_error, appendFrame(out, s));
    QCOMPARE(out, std::string("keep"));
    QVERIFY_THROWS_EXCEPTION(std::length_error,
                             batchFrameHeader(BatchFrame::Kind::Completed, 1, kMaxFrameBytes));
}

void tst_Protocol::test_sizeBound()
{
    const std::vector<Value> values = {Value(),
                                       Value(true),
                                       Value(23),
                                       Value(24),
                                       Value(-1'000'000'000'000LL),
                                       Value(0.5),
                                       Value(std::string(300, 'x')),
                                       Value(Bytes{std::vector<std::uint8_t>(70'000)}),
                                       sampleValue(),
                                       Value::list({sampleValue(), sampleValue()})};
    for (const Value &v : values) {
        const std::size_t actual = encodeCbor(v).size();
        const std::size_t bound = cborSizeBound(v);
        QVERIFY2(bound >= actual, qPrintable(QString::fromStdString(repr(v))));
        QVERIFY(bound <= actual + 8 * 16); // doubles may be shorter than 9 bytes
    }
    // Stops early once past the limit.
    Value::List big(1'000'000, Value(1));
    const std::size_t early = cborSizeBound(Value(big), 1024);
    QVERIFY(early > 1024 && early < 2048);
}

void tst_Protocol::test_readFromSocket()
{
    int sv[2];
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ::fcntl(sv[0], F_SETFL, ::fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    std::string stream;
    constexpr int kFrames = 2000;
    for (int i = 0; i < kFrames; ++i)
        appendFrame(stream, LogLine{std::uint64_t(i), std::string(std::size_t(i % 500), 'z')});
    appendFrame(stream, Store{1, Value(Bytes{std::vector<std::uint8_t>(3 << 20, 7)})});
    std::thread writer([&] {
        std::size_t pos = 0;
        while (pos < stream.size()) {
            const ssize_t n = ::write(
                sv[1], stream.data() + pos, std::min<std::size_t>(stream.size() - pos, 7777));
            if (n <= 0)
                break;
            pos += std::size_t(n);
        }
        ::close(sv[1]);
    });
    FrameReader reader;
    int frames = 0;
    bool closed = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!closed && std::chrono::steady_clock::now() < deadline) {
        const auto st = reader.readFrom(sv[0]);
        if (st == FrameReader::ReadStatus::Closed)
            closed = true;
        QVERIFY(st != FrameReader::ReadStatus::Error);
        if (st == FrameReader::ReadStatus::WouldBlock)
            std::this_thread::yield();
        std::string_view payload;
        while (reader.next(&payload) == FrameReader::Next::Frame) {
            const auto m = decodeMessage(payload);
            QVERIFY(m);
            if (frames < kFrames)
                QCOMPARE(std::get<LogLine>(*m).task, std::uint64_t(frames));
            else
                QCOMPARE(std::get<Store>(*m).value.toBytes().data.size(), std::size_t(3 << 20));
            ++frames;
        }
    }
    writer.join();
    ::close(sv[0]);
    QVERIFY(closed);
    QCOMPARE(frames, kFrames + 1);
}

QTEST_MAIN(tst_Protocol)
#include "tst_protocol.moc"
