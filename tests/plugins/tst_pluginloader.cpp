// Tests for the plugin loader and the shipped plugins: every refusal with its exact reason
// and exactly one warning, refusals that do not stop the other plugins, duplicate names,
// reload of a rebuilt library, the search path, and the shipped plugins' functions called
// through the FunctionRegistry. The faults plugin is only listed here, never called: its
// functions kill the process (they belong to process-worker tests).
#include "taskbench/functionregistry.h"
#include "taskbench/logging.h"
#include "taskbench/pluginloader.h"

#include <spdlog/sinks/base_sink.h>

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace taskbench;
namespace fs = std::filesystem;

namespace {

/// Collects what the "plugins" logger writes, so the warnings themselves can be checked.
class CaptureSink : public spdlog::sinks::base_sink<std::mutex>
{
public:
    std::vector<std::string> takeWarnings()
    {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        out.swap(m_warnings);
        return out;
    }

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override
    {
        if (msg.level == spdlog::level::warn)
            m_warnings.emplace_back(msg.payload.data(), msg.payload.size());
    }
    void flush_() override {}

private:
    std::vector<std::string> m_warnings;
};

/// A task context the test controls: cancellation, attempt number, and what the task reports.
class TestContext : public sdk::TaskContext
{
public:
    bool cancelled() const override { return m_cancelled; }
    void progress(double fraction, std::string_view message) override
    {
        m_progress.push_back(fraction);
        m_progressMessages.emplace_back(message);
    }
    void log(std::string_view line) override { m_logs.emplace_back(line); }
    int attempt() const override { return m_attempt; }

    bool m_cancelled = false;
    int m_attempt = 1;
    std::vector<double> m_progress;
    std::vector<std::string> m_progressMessages;
    std::vector<std::string> m_logs;
};

/// What a call produced: its value, or the error type and message it threw.
struct Outcome
{
    Value value;
    std::string errorType; ///< "" when the call returned
    std::string message;
};

Outcome call(const FunctionRegistry &registry,
             const std::string &name,
             const std::vector<Value> &args,
             sdk::TaskContext &ctx)
{
    const FunctionPtr fn = registry.find(name);
    if (!fn)
        return {Value(), "NotFound", name};
    try {
        return {fn->invoke(args, ctx), {}, {}};
    } catch (const sdk::TaskException &e) {
        return {Value(), e.type(), e.what()};
    } catch (const std::exception &e) {
        return {Value(), "std::exception", e.what()};
    } catch (...) {
        return {Value(), "unknown", {}};
    }
}

Outcome
call(const FunctionRegistry &registry, const std::string &name, const std::vector<Value> &args)
{
    TestContext ctx;
    return call(registry, name, args, ctx);
}

std::string shippedPlugin(const char *name)
{
    return std::string(TASKBENCH_PLUGIN_DIR) + "/libtaskbench_" + name + ".so";
}

std::string fixture(const std::string &name)
{
    return std::string(TASKBENCH_TEST_PLUGIN_DIR) + "/" + name + "/lib" + name + ".so";
}

std::string normalised(const std::string &path)
{
    return fs::weakly_canonical(path).string();
}

void writeFile(const std::string &path, const std::string &bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

/// Deterministic "random" bytes: the same file on every run.
std::string randomBytes(std::size_t size, std::uint32_t seed)
{
    std::mt19937 generator(seed);
    std::string bytes(size, '\0');
    for (char &c : bytes)
        c = char(generator() & 0xff);
    return bytes;
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

} // namespace

Q_DECLARE_METATYPE(std::string)

class tst_PluginLoader : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void test_refusal_data();
    void test_refusal();
    void test_refusalOfGeneratedFiles_data();
    void test_refusalOfGeneratedFiles();
    void test_refusalsDoNotStopOthers();
    void test_libraryThatKillsItsOpener_data();
    void test_libraryThatKillsItsOpener();
    void test_handwrittenEntryLoads();
    void test_duplicatePluginName();
    void test_registersQualifiedFunctions();
    void test_benchFunctions();
    void test_benchFlakyIncMarkerFiles();
    void test_benchCooperativeFunctions();
    void test_taskExceptionCrossesTheBoundary();
    void test_tutorialFunctionsListed_data();
    void test_tutorialFunctionsListed();
    void test_tutorialFunctions();
    void test_tutorialSleepsAndCancels();
    void test_filesProcessFile();
    void test_filesErrors_data();
    void test_filesErrors();
    void test_faultsListedNotCalled();
    void test_searchPathFromEnvironment();
    void test_missingFolderWarning();
    void test_scanOrderAndSkips();
    void test_reloadSamePath();
    void test_reloadRebuiltLibrary();
    void test_failedReloadKeepsPrevious();
    void test_outOfTreePlugin();

private:
    std::shared_ptr<CaptureSink> m_sink = std::make_shared<CaptureSink>();
};

void tst_PluginLoader::initTestCase()
{
    auto logger = log::get("plugins");
    logger->sinks().push_back(m_sink);
    QVERIFY(logger->should_log(spdlog::level::warn));
    for (const char *name : {"tutorial", "bench", "files", "faults"})
        QVERIFY2(fs::is_regular_file(shippedPlugin(name)), shippedPlugin(name).c_str());
}

void tst_PluginLoader::init()
{
    m_sink->takeWarnings();
}

void tst_PluginLoader::cleanup()
{
    qunsetenv("TASKBENCH_PLUGIN_PATH");
}

void tst_PluginLoader::test_refusal_data()
{
    QTest::addColumn<std::string>("path");
    QTest::addColumn<QString>("reason");

    const QString identifiers
        = QStringLiteral("': names must be identifiers ([A-Za-z_][A-Za-z0-9_]*)");
    QTest::newRow("no entry point")
        << fixture("not_a_plugin")
        << QStringLiteral("not a Taskbench plugin: no taskbench_plugin_entry symbol");
    QTest::newRow("wrong ABI version")
        << fixture("wrong_abi")
        << QStringLiteral("built for SDK ABI 999, this Taskbench has %1")
               .arg(TASKBENCH_SDK_VERSION);
    QTest::newRow("bad magic")
        << fixture("bad_magic")
        << QStringLiteral("not a Taskbench plugin: bad magic 0xDEADBEEF (expected 0x54424E43)");
    QTest::newRow("null entry")
        << fixture("null_entry")
        << QStringLiteral("not a Taskbench plugin: the entry point returned no plugin record");
    QTest::newRow("registration throws")
        << fixture("throws_on_register")
        << QStringLiteral("registration failed: registration exploded");
    QTest::newRow("registration throws non-std")
        << fixture("throws_nonstd")
        << QStringLiteral("registration failed: a non-standard exception was thrown");
    QTest::newRow("invalid plugin name")
        << fixture("bad_plugin_name") << "invalid plugin name 'my-plugin" + identifiers;
    QTest::newRow("empty plugin name")
        << fixture("empty_plugin_name") << QStringLiteral("the plugin name is empty");
    QTest::newRow("invalid function name")
        << fixture("bad_function_name") << "invalid function name 'do-it" + identifiers;
    QTest::newRow("function name starts with a digit")
        << fixture("digit_function_name") << "invalid function name '2inc" + identifiers;
    QTest::newRow("empty function name")
        << fixture("empty_function_name")
        << QStringLiteral("plugin 'bad_names' has a function with an empty name");
    QTest::newRow("duplicate function")
        << fixture("duplicate_function")
        << QStringLiteral("function 'inc' is defined more than once");
    QTest::newRow("unresolved symbol")
        << fixture("unresolved_symbol")
        << q("not a loadable shared library: " + normalised(fixture("unresolved_symbol"))
             + ": undefined symbol: taskbench_fixture_missing_function");
    QTest::newRow("missing file") << std::string(TASKBENCH_TEST_PLUGIN_DIR) + "/nope/libnope.so"
                                  << QStringLiteral("file does not exist");
    QTest::newRow("directory") << std::string(TASKBENCH_TEST_PLUGIN_DIR) + "/not_a_plugin"
                               << QStringLiteral("not a regular file");
}

void tst_PluginLoader::test_refusal()
{
    QFETCH(std::string, path);
    QFETCH(QString, reason);

    FunctionRegistry registry;
    PluginLoader loader(registry);
    const PluginScanReport report = loader.load(path);

    QVERIFY(report.loaded.empty());
    QCOMPARE(report.refused.size(), std::size_t(1));
    QCOMPARE(q(report.refused[0].path), q(normalised(path)));
    QCOMPARE(q(report.refused[0].reason), reason);
    QVERIFY(loader.plugins().empty());
    QVERIFY(registry.all().empty());

    const std::vector<std::string> warnings = m_sink->takeWarnings();
    QCOMPARE(warnings.size(), std::size_t(1));
    QVERIFY2(q(warnings[0]).contains(q(normalised(path))), warnings[0].c_str());
    QVERIFY2(q(warnings[0]).contains(reason), warnings[0].c_str());
}

void tst_PluginLoader::test_refusalOfGeneratedFiles_data()
{
    QTest::addColumn<std::string>("content");
    QTest::addColumn<QString>("dlerror");

    QTest::newRow("random bytes") << randomBytes(4096, 20240229) << "invalid ELF header";
    QTest::newRow("text file") << std::string("just some text\n") << "file too short";
    QTest::newRow("empty file") << std::string() << "file too short";
}

void tst_PluginLoader::test_refusalOfGeneratedFiles()
{
    QFETCH(std::string, content);
    QFETCH(QString, dlerror);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath("libgarbage.so").toStdString();
    writeFile(path, content);

    FunctionRegistry registry;
    PluginLoader loader(registry);
    const PluginScanReport report = loader.load(path);

    QVERIFY(report.loaded.empty());
    QCOMPARE(report.refused.size(), std::size_t(1));
    const QString reason = q(report.refused[0].reason);
    QVERIFY2(reason.startsWith("not a loadable shared library: "), qPrintable(reason));
    QVERIFY2(reason.contains(dlerror), qPrintable(reason));
    QCOMPARE(m_sink->takeWarnings().size(), std::size_t(1));
    QVERIFY(registry.all().empty());
}

void tst_PluginLoader::test_libraryThatKillsItsOpener_data()
{
    QTest::addColumn<std::string>("source"); ///< a fixture, or "truncated" (a cut-off plugin)
    QTest::addColumn<QString>("reason");

    const QString ends = "opening the library ends the process that opens it (";
    QTest::newRow("static initialiser throws")
        << std::string("opening_throws")
        << ends + "killed by signal SIGABRT: terminate called after throwing";
    QTest::newRow("static initialiser exits")
        << std::string("opening_exits") << ends + "exited with code 7";
    // SIGBUS inside dlopen; a sanitizer build catches the fault itself and exits with its
    // own code, still naming it (checked below).
    QTest::newRow("truncated library") << std::string("truncated") << ends;
    QTest::newRow("static initialiser hangs")
        << std::string("opening_hangs")
        << QString("opening the library did not finish within 300 ms (tried first in a "
                   "separate process, which was killed)");
}

void tst_PluginLoader::test_libraryThatKillsItsOpener()
{
    // Opened here, each of these would abort, fault or hang this process (or leave the
    // dynamic loader's lock held, so that every later dlopen hangs). The probe opens them in
    // a child first: they are refused, and the loader goes on working.
    QFETCH(std::string, source);
    QFETCH(QString, reason);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    std::string path = dir.filePath("libcase.so").toStdString();
    if (source == "truncated") {
        std::ifstream in(shippedPlugin("tutorial"), std::ios::binary);
        std::string head(10000, '\0');
        in.read(head.data(), std::streamsize(head.size()));
        writeFile(path, head);
    } else {
        fs::copy_file(fixture(source), path);
    }

    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.setProbeTimeout(std::chrono::milliseconds(300));
    const PluginScanReport report = loader.load(path);
    QVERIFY(report.loaded.empty());
    QCOMPARE(report.refused.size(), std::size_t(1));
    const QString why = q(report.refused[0].reason);
    QVERIFY2(why.startsWith(reason), qPrintable(why));
    if (source == "opening_throws")
        QVERIFY2(why.contains("static initialisation exploded"), qPrintable(why));
    if (source == "truncated")
        QVERIFY2(why.contains("killed by signal SIGBUS") || why.contains("BUS"), qPrintable(why));
    QCOMPARE(m_sink->takeWarnings().size(), std::size_t(1));

    // This process is unharmed: the next library opens (on another thread too).
    QCOMPARE(loader.load(shippedPlugin("bench")).loaded.size(), std::size_t(1));
    std::size_t loadedThere = 0;
    std::thread other([&registry, &loadedThere] {
        PluginLoader second(registry);
        second.setProbe(false);
        loadedThere = second.load(shippedPlugin("tutorial")).loaded.size();
    });
    other.join();
    QCOMPARE(loadedThere, std::size_t(1));
    QVERIFY(registry.find("tutorial.inc"));
    m_sink->takeWarnings();
}

void tst_PluginLoader::test_refusalsDoNotStopOthers()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const fs::path folder = dir.path().toStdString();
    writeFile(folder / "liba_garbage.so", randomBytes(2048, 7));
    fs::copy_file(shippedPlugin("bench"), folder / "libb_bench.so");
    fs::copy_file(fixture("wrong_abi"), folder / "libc_wrong_abi.so");
    fs::copy_file(fixture("throws_on_register"), folder / "libd_throws.so");
    fs::copy_file(shippedPlugin("tutorial"), folder / "libe_tutorial.so");

    FunctionRegistry registry;
    PluginLoader loader(registry);
    const PluginScanReport report = loader.scan({folder.string()});

    QCOMPARE(report.loaded.size(), std::size_t(2));
    QCOMPARE(q(report.loaded[0].name), QStringLiteral("bench"));
    QCOMPARE(q(report.loaded[1].name), QStringLiteral("tutorial"));
    QCOMPARE(report.refused.size(), std::size_t(3));
    QCOMPARE(q(report.refused[0].path), q(normalised((folder / "liba_garbage.so").string())));
    QCOMPARE(q(report.refused[1].path), q(normalised((folder / "libc_wrong_abi.so").string())));
    QCOMPARE(q(report.refused[2].path), q(normalised((folder / "libd_throws.so").string())));
    QCOMPARE(m_sink->takeWarnings().size(), std::size_t(3));
    QCOMPARE(call(registry, "bench.inc", {Value(1)}).value, Value(2));
    QVERIFY(registry.find("tutorial.inc"));
}

void tst_PluginLoader::test_handwrittenEntryLoads()
{
    // The same source as the bad_magic/wrong_abi/null_entry fixtures, with every field
    // right: those refusals come from the one field each of them breaks.
    FunctionRegistry registry;
    PluginLoader loader(registry);
    const PluginScanReport report = loader.load(fixture("good_handwritten"));
    QVERIFY(report.refused.empty());
    QCOMPARE(report.loaded.size(), std::size_t(1));
    QCOMPARE(call(registry, "handwritten.one", {}).value, Value(1));
}

void tst_PluginLoader::test_duplicatePluginName()
{
    FunctionRegistry registry;
    PluginLoader loader(registry);
    QCOMPARE(loader.load(shippedPlugin("tutorial")).loaded.size(), std::size_t(1));
    const FunctionPtr realInc = registry.find("tutorial.inc");
    QVERIFY(realInc);

    const PluginScanReport report = loader.load(fixture("duplicate"));
    QVERIFY(report.loaded.empty());
    QCOMPARE(report.refused.size(), std::size_t(1));
    QCOMPARE(q(report.refused[0].reason),
             q("plugin 'tutorial' already loaded from " + normalised(shippedPlugin("tutorial"))));
    QCOMPARE(m_sink->takeWarnings().size(), std::size_t(1));
    // The first plugin stays registered, untouched.
    QCOMPARE(registry.find("tutorial.inc"), realInc);
    QCOMPARE(loader.plugins().size(), std::size_t(1));
    QCOMPARE(q(loader.plugins()[0].path), q(normalised(shippedPlugin("tutorial"))));
}

void tst_PluginLoader::test_registersQualifiedFunctions()
{
    FunctionRegistry registry;
    PluginLoader loader(registry);
    const PluginScanReport report = loader.load(shippedPlugin("bench"));
    QCOMPARE(report.loaded.size(), std::size_t(1));
    QVERIFY(report.refused.empty());
    QVERIFY(m_sink->takeWarnings().empty());

    const PluginRecord &record = report.loaded[0];
    QCOMPARE(q(record.name), QStringLiteral("bench"));
    QCOMPARE(q(record.version), QStringLiteral("1.0"));
    QCOMPARE(q(record.path), q(normalised(shippedPlugin("bench"))));
    const std::vector<std::string> expected = {"bench.inc",
                                               "bench.add",
                                               "bench.double",
                                               "bench.sum",
                                               "bench.noop",
                                               "bench.touch_memory",
                                               "bench.text_of",
                                               "bench.flaky_inc",
                                               "bench.flaky_inc_det",
                                               "bench.sleep_ms",
                                               "bench.slow_inc",
                                               "bench.fail",
                                               "bench.gate",
                                               "bench.log_and_progress",
                                               "bench.range_list",
                                               "bench.print"};
    QCOMPARE(record.functions, expected);
    QCOMPARE(loader.plugins().size(), std::size_t(1));

    const FunctionPtr inc = registry.find("bench.inc");
    QVERIFY(inc);
    QCOMPARE(q(inc->qualifiedName), QStringLiteral("bench.inc"));
    QCOMPARE(q(inc->plugin), QStringLiteral("bench"));
    QCOMPARE(q(inc->pluginVersion), QStringLiteral("1.0"));
    QCOMPARE(q(inc->pluginPath), q(record.path));
    QCOMPARE(q(inc->name), QStringLiteral("inc"));
    QCOMPARE(q(inc->resultType), QStringLiteral("int"));
    QCOMPARE(q(inc->signature()), QStringLiteral("inc(x: int) -> int"));
    QVERIFY(inc->library);
    QCOMPARE(registry.all().size(), expected.size());

    const FunctionPtr slowInc = registry.find("bench.slow_inc");
    QVERIFY(slowInc);
    QCOMPARE(slowInc->params.size(), std::size_t(2));
    QVERIFY(slowInc->params[1].hasDefault);
    QCOMPARE(slowInc->params[1].defaultValue, Value(100));
}

void tst_PluginLoader::test_benchFunctions()
{
    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.load(shippedPlugin("bench"));

    QCOMPARE(call(registry, "bench.inc", {Value(1)}).value, Value(2));
    QCOMPARE(call(registry, "bench.add", {Value(2), Value(3)}).value, Value(5));
    QCOMPARE(call(registry, "bench.double", {Value(21)}).value, Value(42));
    QCOMPARE(call(registry, "bench.sum", {Value::list({1, 2, 3, 4})}).value, Value(10));
    QCOMPARE(call(registry, "bench.sum", {Value::list({})}).value, Value(0));
    const Outcome noop = call(registry, "bench.noop", {});
    QVERIFY(noop.errorType.empty());
    QVERIFY(noop.value.isNull());
    QCOMPARE(call(registry, "bench.slow_inc", {Value(41), Value(0)}).value, Value(42));

    const Outcome overflow
        = call(registry, "bench.inc", {Value(std::numeric_limits<long long>::max())});
    QCOMPARE(q(overflow.errorType), QStringLiteral("OverflowError"));

    const Outcome wrongType = call(registry, "bench.inc", {Value("one")});
    QCOMPARE(q(wrongType.errorType), QStringLiteral("TypeError"));
    QCOMPARE(q(wrongType.message), QStringLiteral("parameter 'x': expected int, got str"));

    const Outcome failed = call(registry, "bench.fail", {Value("boom")});
    QCOMPARE(q(failed.errorType), QStringLiteral("RuntimeError"));
    QCOMPARE(q(failed.message), QStringLiteral("boom"));

    // flaky_inc_det: the first attempt fails for multiples of 5, a retry succeeds.
    TestContext first;
    TestContext retry;
    retry.m_attempt = 2;
    const Outcome det = call(registry, "bench.flaky_inc_det", {Value(10)}, first);
    QCOMPARE(q(det.errorType), QStringLiteral("ValueError"));
    QCOMPARE(q(det.message), QStringLiteral("You hit the error!"));
    QCOMPARE(call(registry, "bench.flaky_inc_det", {Value(10)}, retry).value, Value(11));
    QCOMPARE(call(registry, "bench.flaky_inc_det", {Value(3)}, first).value, Value(4));

    const Outcome negative = call(registry, "bench.sleep_ms", {Value(-1)});
    QCOMPARE(q(negative.errorType), QStringLiteral("ValueError"));
}

void tst_PluginLoader::test_benchFlakyIncMarkerFiles()
{
    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.load(shippedPlugin("bench"));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string markers = dir.path().toStdString();

    // WORKLOADS.md "retries": exactly the attempt that creates marker_dir/<i> fails.
    const Outcome firstAttempt = call(registry, "bench.flaky_inc", {Value(5), Value(markers)});
    QCOMPARE(q(firstAttempt.errorType), QStringLiteral("ValueError"));
    QCOMPARE(q(firstAttempt.message), QStringLiteral("You hit the error!"));
    QVERIFY(fs::is_regular_file(markers + "/5"));
    QCOMPARE(call(registry, "bench.flaky_inc", {Value(5), Value(markers)}).value, Value(6));
    QCOMPARE(call(registry, "bench.flaky_inc", {Value(5), Value(markers)}).value, Value(6));
    QCOMPARE(call(registry, "bench.flaky_inc", {Value(7), Value(markers)}).value, Value(8));
    QCOMPARE(call(registry, "bench.flaky_inc", {Value(0), Value(markers)}).errorType,
             std::string("ValueError"));
    std::size_t files = 0;
    for ([[maybe_unused]] const auto &entry : fs::directory_iterator(markers))
        ++files;
    QCOMPARE(files, std::size_t(2)); // "0" and "5", nothing for 7

    const Outcome noFolder
        = call(registry, "bench.flaky_inc", {Value(10), Value(markers + "/missing")});
    QCOMPARE(q(noFolder.errorType), QStringLiteral("IOError"));
    QVERIFY2(q(noFolder.message).contains("No such file or directory"), noFolder.message.c_str());
}

void tst_PluginLoader::test_benchCooperativeFunctions()
{
    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.load(shippedPlugin("bench"));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());

    // A cancelled context stops a one-minute sleep at the first check.
    TestContext cancelled;
    cancelled.m_cancelled = true;
    QElapsedTimer timer;
    timer.start();
    const Outcome sleep = call(registry, "bench.sleep_ms", {Value(60'000)}, cancelled);
    QCOMPARE(q(sleep.errorType), QStringLiteral("CancelledError"));
    const Outcome slow = call(registry, "bench.slow_inc", {Value(1), Value(60'000)}, cancelled);
    QCOMPARE(q(slow.errorType), QStringLiteral("CancelledError"));
    QVERIFY(timer.elapsed() < 30'000);

    // gate: passes at once when the file exists, waits (cancellably) while it does not.
    const std::string open = dir.filePath("open").toStdString();
    writeFile(open, "");
    QVERIFY(call(registry, "bench.gate", {Value(open)}).errorType.empty());
    const Outcome closed
        = call(registry, "bench.gate", {Value(dir.filePath("closed").toStdString())}, cancelled);
    QCOMPARE(q(closed.errorType), QStringLiteral("CancelledError"));

    TestContext ctx;
    QCOMPARE(call(registry, "bench.log_and_progress", {Value(4)}, ctx).value, Value(4));
    QCOMPARE(
        ctx.m_logs,
        (std::vector<std::string>{"log line 1/4", "log line 2/4", "log line 3/4", "log line 4/4"}));
    QCOMPARE(ctx.m_progress, (std::vector<double>{0.25, 0.5, 0.75, 1.0}));
    QCOMPARE(q(ctx.m_progressMessages.back()), QStringLiteral("4/4"));
}

void tst_PluginLoader::test_taskExceptionCrossesTheBoundary()
{
    // The plugin is built with hidden visibility; the host must still catch its
    // TaskException as sdk::TaskException (libstdc++ compares type_info by name).
    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.load(shippedPlugin("bench"));
    const FunctionPtr fail = registry.find("bench.fail");
    QVERIFY(fail);
    TestContext ctx;
    bool caught = false;
    try {
        fail->invoke({Value("across")}, ctx);
    } catch (const sdk::TaskException &e) {
        caught = e.type() == "RuntimeError" && std::string(e.what()) == "across";
    } catch (...) {
    }
    QVERIFY(caught);
}

void tst_PluginLoader::test_tutorialFunctionsListed_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("signature");
    QTest::addColumn<QString>("docPart");

    QTest::newRow("add") << "tutorial.add"
                         << "add(x: int, y: int) -> int"
                         << "sleeping 1 second";
    QTest::newRow("double") << "tutorial.double"
                            << "double(x: int) -> int"
                            << "sleeping 2 seconds";
    QTest::newRow("flaky_inc") << "tutorial.flaky_inc"
                               << "flaky_inc(i: int) -> int"
                               << "probability 0.2";
    QTest::newRow("inc") << "tutorial.inc"
                         << "inc(x: int) -> int"
                         << "sleeping 1 second";
    QTest::newRow("sum") << "tutorial.sum"
                         << "sum(values: list[int]) -> int"
                         << "sum of a list";
}

void tst_PluginLoader::test_tutorialFunctionsListed()
{
    QFETCH(QString, name);
    QFETCH(QString, signature);
    QFETCH(QString, docPart);

    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.load(shippedPlugin("tutorial"));

    std::vector<std::string> names;
    for (const FunctionPtr &fn : registry.all())
        names.push_back(fn->qualifiedName);
    QCOMPARE(names,
             (std::vector<std::string>{"tutorial.add",
                                       "tutorial.double",
                                       "tutorial.flaky_inc",
                                       "tutorial.inc",
                                       "tutorial.sum"}));

    const FunctionPtr fn = registry.find(name.toStdString());
    QVERIFY(fn);
    QCOMPARE(q(fn->signature()), signature);
    QVERIFY2(q(fn->doc).contains(docPart), fn->doc.c_str());
}

void tst_PluginLoader::test_tutorialFunctions()
{
    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.load(shippedPlugin("tutorial"));

    QCOMPARE(call(registry, "tutorial.sum", {Value::list({2, 3})}).value, Value(5));

    // flaky_inc fails at random (p = 0.2), as in the tutorial: every outcome must be either
    // i + 1 or the tutorial's ValueError. Over 2,000 calls both occur; the chance that one
    // of them does not is below 1e-190, so this is not a test that relies on luck.
    int failures = 0;
    int successes = 0;
    for (int n = 0; n < 2000; ++n) {
        const Outcome o = call(registry, "tutorial.flaky_inc", {Value(n)});
        if (o.errorType.empty()) {
            QCOMPARE(o.value, Value(n + 1));
            ++successes;
        } else {
            QCOMPARE(q(o.errorType), QStringLiteral("ValueError"));
            QCOMPARE(q(o.message), QStringLiteral("You hit the error!"));
            ++failures;
        }
    }
    QVERIFY(failures > 0);
    QVERIFY(successes > 0);
}

void tst_PluginLoader::test_tutorialSleepsAndCancels()
{
    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.load(shippedPlugin("tutorial"));

    // inc really takes its second (the tutorial's simulated work)...
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(call(registry, "tutorial.inc", {Value(1)}).value, Value(2));
    QVERIFY(timer.elapsed() >= 1000);

    // ...and stops at once when cancelled.
    TestContext cancelled;
    cancelled.m_cancelled = true;
    for (const char *name : {"tutorial.inc", "tutorial.double"}) {
        const Outcome o = call(registry, name, {Value(1)}, cancelled);
        QCOMPARE(q(o.errorType), QStringLiteral("CancelledError"));
    }
    const Outcome add = call(registry, "tutorial.add", {Value(1), Value(2)}, cancelled);
    QCOMPARE(q(add.errorType), QStringLiteral("CancelledError"));
}

void tst_PluginLoader::test_filesProcessFile()
{
    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.load(shippedPlugin("files"));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string input = dir.filePath("data/a.txt").toStdString();
    fs::create_directories(fs::path(input).parent_path());
    writeFile(input, "hello\nworld");
    const std::string results = dir.filePath("out/results").toStdString();

    TestContext ctx;
    const Outcome o = call(registry, "files.process_file", {Value(input), Value(results)}, ctx);
    QVERIFY2(o.errorType.empty(), o.message.c_str());
    // An absolute input path keeps only its file name under the results folder.
    const std::string destination = results + "/a.txt";
    QCOMPARE(o.value, Value(destination));
    QCOMPARE(q(readFile(destination)), QStringLiteral("# 2 lines\nHELLO\nWORLD"));
    QCOMPARE(ctx.m_logs.size(), std::size_t(1));
    QCOMPARE(q(readFile(input)), QStringLiteral("hello\nworld")); // input untouched
    // It works on files: never served from the result cache; a computation is.
    QVERIFY(!registry.find("files.process_file")->cacheable);
    loader.load(shippedPlugin("bench"));
    QVERIFY(registry.find("bench.inc")->cacheable);
}

void tst_PluginLoader::test_filesErrors_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("results");
    QTest::addColumn<QString>("message");

    QTest::newRow("missing file") << "missing.txt"
                                  << "out"
                                  << "missing.txt: No such file or directory";
    QTest::newRow("directory") << "folder"
                               << "out"
                               << "folder: is a directory";
    QTest::newRow("below a file") << "plain.txt/x"
                                  << "out"
                                  << "plain.txt/x: Not a directory";
    QTest::newRow("results folder is a file") << "plain.txt"
                                              << "plain.txt"
                                              << "plain.txt: Not a directory";
    QTest::newRow("empty path") << ""
                                << "out"
                                << "process_file: the path is empty";
}

void tst_PluginLoader::test_filesErrors()
{
    QFETCH(QString, input);
    QFETCH(QString, results);
    QFETCH(QString, message);

    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.load(shippedPlugin("files"));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string base = dir.path().toStdString() + "/";
    fs::create_directory(base + "folder");
    writeFile(base + "plain.txt", "text\n");

    const std::string inputPath = input.isEmpty() ? std::string() : base + input.toStdString();
    const Outcome o = call(
        registry, "files.process_file", {Value(inputPath), Value(base + results.toStdString())});
    QCOMPARE(q(o.errorType), QStringLiteral("IOError"));
    const QString expected = input.isEmpty() ? message : q(base) + message;
    QCOMPARE(q(o.message), expected);
}

void tst_PluginLoader::test_faultsListedNotCalled()
{
    FunctionRegistry registry;
    PluginLoader loader(registry);
    const PluginScanReport report = loader.load(shippedPlugin("faults"));
    QCOMPARE(report.loaded.size(), std::size_t(1));
    QCOMPARE(report.loaded[0].functions,
             (std::vector<std::string>{"faults.segfault",
                                       "faults.abort_task",
                                       "faults.exit_task",
                                       "faults.hang",
                                       "faults.allocate",
                                       "faults.throw_runtime",
                                       "faults.throw_nonstd",
                                       "faults.print_then_throw",
                                       "faults.ok"}));
    QCOMPARE(q(registry.find("faults.exit_task")->signature()),
             QStringLiteral("exit_task(code: int = 3) -> null"));
    // ok() is the one harmless function.
    QCOMPARE(call(registry, "faults.ok", {Value::list({1, "two"})}).value, Value::list({1, "two"}));
}

void tst_PluginLoader::test_searchPathFromEnvironment()
{
    qputenv("TASKBENCH_PLUGIN_PATH", "/opt/a::/opt/b:");
    const std::vector<std::string> path = PluginLoader::defaultSearchPath();
    QCOMPARE(path.size(), std::size_t(3));
    // The test binary lives in build/bin, so its plugins folder is build/plugins.
    QCOMPARE(q(normalised(path[0])), q(normalised(TASKBENCH_PLUGIN_DIR)));
    QCOMPARE(q(path[1]), QStringLiteral("/opt/a"));
    QCOMPARE(q(path[2]), QStringLiteral("/opt/b"));

    qunsetenv("TASKBENCH_PLUGIN_PATH");
    QCOMPARE(PluginLoader::defaultSearchPath().size(), std::size_t(1));

    // The default path finds the shipped plugins, and nothing is refused there.
    FunctionRegistry registry;
    PluginLoader loader(registry);
    const PluginScanReport report = loader.scan(PluginLoader::defaultSearchPath());
    QVERIFY(report.refused.empty());
    QVERIFY(registry.find("bench.inc"));
    QVERIFY(registry.find("tutorial.inc"));
    QVERIFY(registry.find("files.process_file"));
    QVERIFY(registry.find("faults.ok"));
    QVERIFY(m_sink->takeWarnings().empty());
}

void tst_PluginLoader::test_missingFolderWarning()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string missing = dir.filePath("does-not-exist").toStdString();
    fs::create_directory(dir.filePath("extra").toStdString());
    fs::copy_file(shippedPlugin("bench"), dir.filePath("extra/libbench.so").toStdString());

    FunctionRegistry registry;
    PluginLoader loader(registry);
    const PluginScanReport report = loader.scan({missing, dir.filePath("extra").toStdString()});
    QVERIFY(report.refused.empty()); // a missing folder is not a refused plugin
    QCOMPARE(report.loaded.size(), std::size_t(1));
    const std::vector<std::string> warnings = m_sink->takeWarnings();
    QCOMPARE(warnings.size(), std::size_t(1));
    QCOMPARE(q(warnings[0]), q("plugin folder " + missing + " does not exist"));
}

void tst_PluginLoader::test_scanOrderAndSkips()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const fs::path folder = dir.path().toStdString();
    fs::copy_file(shippedPlugin("tutorial"), folder / "libz_tutorial.so");
    fs::copy_file(shippedPlugin("files"), folder / "liba_files.so");
    fs::copy_file(shippedPlugin("bench"), folder / "libm_bench.so");
    fs::create_directory(folder / "libdir.so"); // not a regular file: skipped silently
    fs::copy_file(shippedPlugin("faults"), folder / "faults.so.disabled"); // not *.so
    fs::create_symlink("libdir.so", folder / "liblink.so");                // to a folder

    FunctionRegistry registry;
    PluginLoader loader(registry);
    // The same folder twice loads each plugin once.
    const PluginScanReport report = loader.scan({folder.string(), folder.string()});
    QVERIFY(report.refused.empty());
    QCOMPARE(report.loaded.size(), std::size_t(3));
    QCOMPARE(q(report.loaded[0].name), QStringLiteral("files"));
    QCOMPARE(q(report.loaded[1].name), QStringLiteral("bench"));
    QCOMPARE(q(report.loaded[2].name), QStringLiteral("tutorial"));
    QVERIFY(!registry.find("faults.ok"));
    QVERIFY(m_sink->takeWarnings().empty());
}

void tst_PluginLoader::test_reloadSamePath()
{
    FunctionRegistry registry;
    PluginLoader loader(registry);
    QCOMPARE(loader.load(shippedPlugin("bench")).loaded.size(), std::size_t(1));
    const FunctionPtr before = registry.find("bench.inc");
    QVERIFY(before);

    const PluginScanReport again = loader.load(shippedPlugin("bench"));
    QCOMPARE(again.loaded.size(), std::size_t(1));
    QVERIFY(again.refused.empty());
    QCOMPARE(loader.plugins().size(), std::size_t(1));
    const FunctionPtr after = registry.find("bench.inc");
    QVERIFY(after);
    QVERIFY(after != before); // replaced
    QCOMPARE(registry.all().size(), std::size_t(16));

    // The old entry keeps its library loaded: a task that still holds it can finish.
    TestContext ctx;
    QCOMPARE(before->invoke({Value(1)}, ctx), Value(2));
    QCOMPARE(after->invoke({Value(1)}, ctx), Value(2));
    QVERIFY(m_sink->takeWarnings().empty());
}

void tst_PluginLoader::test_reloadRebuiltLibrary()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath("libreloadme.so").toStdString();
    fs::copy_file(fixture("reload_v1"), path);

    FunctionRegistry registry;
    PluginLoader loader(registry);
    QCOMPARE(loader.load(path).loaded.size(), std::size_t(1));
    const FunctionPtr v1 = registry.find("reloadme.version");
    QVERIFY(v1);
    QCOMPARE(call(registry, "reloadme.version", {}).value, Value(1));
    QVERIFY(registry.find("reloadme.only_in_v1"));

    // "Rebuild": a new file at the same path, as a linker writes it.
    fs::remove(path);
    fs::copy_file(fixture("reload_v2"), path);
    const PluginScanReport report = loader.load(path);
    QCOMPARE(report.loaded.size(), std::size_t(1));
    QCOMPARE(q(report.loaded[0].version), QStringLiteral("2.0"));
    QCOMPARE(call(registry, "reloadme.version", {}).value, Value(2));
    QVERIFY(registry.find("reloadme.only_in_v2"));
    QVERIFY(!registry.find("reloadme.only_in_v1"));
    QCOMPARE(q(registry.find("reloadme.version")->pluginPath), q(normalised(path)));
    QCOMPARE(loader.plugins().size(), std::size_t(1));
    QCOMPARE(q(loader.plugins()[0].version), QStringLiteral("2.0"));

    // The v1 entry still runs v1's code.
    TestContext ctx;
    QCOMPARE(v1->invoke({}, ctx), Value(1));
}

void tst_PluginLoader::test_failedReloadKeepsPrevious()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath("libreloadme.so").toStdString();
    fs::copy_file(fixture("reload_v1"), path);

    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.load(path);
    const FunctionPtr v1 = registry.find("reloadme.version");
    QVERIFY(v1);

    fs::remove(path);
    fs::copy_file(fixture("wrong_abi"), path);
    const PluginScanReport report = loader.load(path);
    QCOMPARE(report.refused.size(), std::size_t(1));
    QCOMPARE(m_sink->takeWarnings().size(), std::size_t(1));
    QCOMPARE(registry.find("reloadme.version"), v1);
    QCOMPARE(loader.plugins().size(), std::size_t(1));

    // Garbage at the path: dlopen's message names the plugin's file, not the private copy
    // that a reload maps.
    writeFile(path, randomBytes(512, 99));
    const PluginScanReport garbage = loader.load(path);
    QCOMPARE(garbage.refused.size(), std::size_t(1));
    QCOMPARE(q(garbage.refused[0].reason),
             q("not a loadable shared library: " + normalised(path) + ": invalid ELF header"));
    QCOMPARE(m_sink->takeWarnings().size(), std::size_t(1));
    QCOMPARE(registry.find("reloadme.version"), v1);
    QCOMPARE(loader.plugins().size(), std::size_t(1));
    QCOMPARE(q(loader.plugins()[0].version), QStringLiteral("1.0"));
}

void tst_PluginLoader::test_outOfTreePlugin()
{
    // Run by the pluginloader_outoftree_* tests, which build tests/plugins/outoftree as a
    // project of its own against the exported package and pass the library's path.
    const QByteArray path = qgetenv("TASKBENCH_OUTOFTREE_PLUGIN");
    if (path.isEmpty())
        QSKIP("TASKBENCH_OUTOFTREE_PLUGIN is not set (see the pluginloader_outoftree tests)");

    FunctionRegistry registry;
    PluginLoader loader(registry);
    const PluginScanReport report = loader.load(path.toStdString());
    QVERIFY(report.refused.empty());
    QCOMPARE(report.loaded.size(), std::size_t(1));
    QCOMPARE(q(report.loaded[0].name), QStringLiteral("hello"));
    QCOMPARE(call(registry, "hello.greet", {Value("Taskbench")}).value, Value("Hello, Taskbench!"));
    QCOMPARE(q(registry.find("hello.greet")->signature()),
             QStringLiteral("greet(name: str) -> str"));
}

QTEST_MAIN(tst_PluginLoader)
#include "tst_pluginloader.moc"
