// Tests of graph files (TaskGraph::fromJson) and of the dependency order of a graph
// (TaskGraph::topologicalOrder): the tutorial's graph, nested references, deterministic
// order, and one clear message per kind of malformed input, dangling reference and cycle.
#include "taskbench/client.h"
#include "taskbench/valuecodec.h"

#include <QtTest>

using taskbench::TaskGraph;
using taskbench::Value;

namespace {

using Names = std::vector<std::string>;

TaskGraph::Task task(const std::string &function, std::vector<Value> args = {})
{
    TaskGraph::Task t;
    t.function = function;
    t.args = std::move(args);
    return t;
}

} // namespace

class tst_TaskGraph : public QObject
{
    Q_OBJECT

private slots:
    void test_tutorialGraph();
    void test_nestedReferencesAndKwargs();
    void test_outputsDefaultToAllTasks();
    void test_orderIsDeterministic_data();
    void test_orderIsDeterministic();
    void test_longChain();
    void test_malformed_data();
    void test_malformed();
    void test_programmaticGraphErrors();
    void test_longCycleIsShortened_data();
    void test_longCycleIsShortened();
};

void tst_TaskGraph::test_tutorialGraph()
{
    const char *json = R"({
        "tasks": {
            "x": {"function": "tutorial.inc", "args": [1]},
            "y": {"function": "tutorial.inc", "args": [2]},
            "z": {"function": "tutorial.add", "args": [{"$ref": "x"}, {"$ref": "y"}],
                  "retries": 2}
        },
        "outputs": ["z"]
    })";
    std::string error;
    const auto graph = TaskGraph::fromJson(json, &error);
    QVERIFY2(graph, error.c_str());
    QCOMPARE(graph->tasks.size(), std::size_t(3));
    const TaskGraph::Task &z = graph->tasks.at("z");
    QCOMPARE(z.function, std::string("tutorial.add"));
    QCOMPARE(z.args.size(), std::size_t(2));
    QVERIFY(z.args[0] == Value::ref("x"));
    QVERIFY(z.args[1] == Value::ref("y"));
    QCOMPARE(z.retries, 2);
    QCOMPARE(graph->tasks.at("x").retries, 0);
    QVERIFY(graph->tasks.at("x").args == std::vector<Value>{1});
    QVERIFY(graph->tasks.at("x").kwargs.empty());
    QCOMPARE(graph->outputs, Names{"z"});
    const auto order = graph->topologicalOrder(&error);
    QVERIFY2(order, error.c_str());
    QCOMPARE(*order, (Names{"x", "y", "z"}));
}

void tst_TaskGraph::test_nestedReferencesAndKwargs()
{
    const char *json = R"({"tasks": {
        "sum": {"function": "bench.sum",
                "args": [[{"$ref": "b"}, {"$ref": "a"}, 3]],
                "kwargs": {"options": {"scale": {"$ref": "c"}, "raw": {"$bytes": "AAE="}}}},
        "a": {"function": "bench.inc", "args": [0]},
        "b": {"function": "bench.inc", "args": [{"$ref": "a"}]},
        "c": {"function": "bench.inc", "kwargs": {"x": 5}}
    }, "outputs": ["sum", "b"]})";
    std::string error;
    const auto graph = TaskGraph::fromJson(json, &error);
    QVERIFY2(graph, error.c_str());
    const TaskGraph::Task &sum = graph->tasks.at("sum");
    QVERIFY(sum.args[0] == Value::list({Value::ref("b"), Value::ref("a"), 3}));
    const Value &options = sum.kwargs.at("options");
    QVERIFY(options.toMap().at("scale") == Value::ref("c"));
    QVERIFY(options.toMap().at("raw") == Value(taskbench::Bytes{{0, 1}}));
    QVERIFY(graph->tasks.at("c").args.empty());
    QVERIFY(graph->tasks.at("c").kwargs.at("x") == Value(5));
    QCOMPARE(graph->outputs, (Names{"sum", "b"}));
    const auto order = graph->topologicalOrder(&error);
    QVERIFY2(order, error.c_str());
    QCOMPARE(*order, (Names{"a", "b", "c", "sum"}));
}

void tst_TaskGraph::test_outputsDefaultToAllTasks()
{
    const auto graph = TaskGraph::fromJson(
        R"({"tasks": {"b": {"function": "f"}, "a": {"function": "f", "args": [{"$ref": "b"}]}}})",
        nullptr);
    QVERIFY(graph);
    QCOMPARE(graph->outputs, (Names{"a", "b"}));
    QCOMPARE(*graph->topologicalOrder(nullptr), (Names{"b", "a"}));
}

void tst_TaskGraph::test_orderIsDeterministic_data()
{
    // Each row: tasks as "name:dep,dep" and the expected order.
    QTest::addColumn<QStringList>("tasks");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("independent: by name")
        << QStringList{"c:", "a:", "b:"} << QStringList{"a", "b", "c"};
    QTest::newRow("chain against name order")
        << QStringList{"a:b", "b:c", "c:"} << QStringList{"c", "b", "a"};
    QTest::newRow("diamond") << QStringList{"top:", "left:top", "right:top", "bottom:left,right"}
                             << QStringList{"top", "left", "right", "bottom"};
    // Once "a" is done, "b" (needs a) and "c" are both ready: the smaller name goes first,
    // even though "c" was ready earlier.
    QTest::newRow("ties by name among ready tasks")
        << QStringList{"c:", "b:a", "a:"} << QStringList{"a", "b", "c"};
    QTest::newRow("ready order is by name, not by depth")
        << QStringList{"z:", "a:z", "b:a", "c:"} << QStringList{"c", "z", "a", "b"};
    QTest::newRow("repeated dependency") << QStringList{"s:x,x,x", "x:"} << QStringList{"x", "s"};
}

void tst_TaskGraph::test_orderIsDeterministic()
{
    QFETCH(QStringList, tasks);
    QFETCH(QStringList, expected);
    TaskGraph graph;
    for (const QString &spec : tasks) {
        const QString name = spec.section(':', 0, 0);
        std::vector<Value> args;
        for (const QString &dep : spec.section(':', 1).split(',', Qt::SkipEmptyParts))
            args.push_back(Value::ref(dep.toStdString()));
        graph.tasks[name.toStdString()] = task("f", std::move(args));
    }
    std::string error;
    const auto order = graph.topologicalOrder(&error);
    QVERIFY2(order, error.c_str());
    QStringList got;
    for (const auto &n : *order)
        got << QString::fromStdString(n);
    QCOMPARE(got, expected);
    QCOMPARE(*graph.topologicalOrder(nullptr), *order);
}

void tst_TaskGraph::test_longChain()
{
    // 100,000 tasks in a chain, written in reverse name order: no recursion, no quadratic
    // work, and the order follows the dependencies.
    const int n = 100000;
    TaskGraph graph;
    const auto name
        = [](int i) { return QStringLiteral("t%1").arg(i, 6, 10, QLatin1Char('0')).toStdString(); };
    for (int i = 0; i < n; ++i)
        graph.tasks[name(i)] = task(
            "f", i + 1 < n ? std::vector<Value>{Value::ref(name(i + 1))} : std::vector<Value>{});
    const auto order = graph.topologicalOrder(nullptr);
    QVERIFY(order);
    QCOMPARE(order->size(), std::size_t(n));
    QCOMPARE(order->front(), name(n - 1));
    QCOMPARE(order->back(), name(0));
}

void tst_TaskGraph::test_malformed_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("error");
    QTest::newRow("not JSON") << "tasks: x"
                              << "graph: malformed JSON: line 1, column 1 (offset 0): expected a "
                                 "value, found 't'";
    QTest::newRow("broken JSON on line 3")
        << "{\"tasks\": {\n  \"x\": {\"function\": \"f\"},\n  \"y\": {\"function\" \"f\"}}}"
        << "graph: malformed JSON: line 3, column 20 (offset 57): expected ':' after object key, "
           "found '\"'";
    QTest::newRow("empty file") << ""
                                << "graph: malformed JSON: line 1, column 1";
    QTest::newRow("top level list") << "[]"
                                    << "graph: the top level must be an object, not list";
    QTest::newRow("missing tasks") << "{}"
                                   << "graph: missing field 'tasks'";
    QTest::newRow("unknown top-level field")
        << R"({"tasks": {"x": {"function": "f"}}, "output": ["x"]})"
        << "graph: top level: unknown field 'output' (expected tasks, outputs)";
    QTest::newRow("tasks is a list") << R"({"tasks": [{"function": "f"}]})"
                                     << "graph: 'tasks' must be an object of named tasks, not list";
    QTest::newRow("no tasks") << R"({"tasks": {}})"
                              << "graph: 'tasks' is empty";
    QTest::newRow("empty task name") << R"({"tasks": {"": {"function": "f"}}})"
                                     << "graph: a task has an empty name";
    QTest::newRow("task is a string") << R"({"tasks": {"x": "tutorial.inc"}})"
                                      << "graph: task 'x': must be an object, not str";
    QTest::newRow("missing function") << R"({"tasks": {"x": {"args": [1]}}})"
                                      << "graph: task 'x': missing field 'function'";
    QTest::newRow("function not a string") << R"({"tasks": {"x": {"function": 1}}})"
                                           << "graph: task 'x': 'function' must be a non-empty "
                                              "string";
    QTest::newRow("empty function") << R"({"tasks": {"x": {"function": ""}}})"
                                    << "graph: task 'x': 'function' must be a non-empty string";
    QTest::newRow("args not a list") << R"({"tasks": {"x": {"function": "f", "args": 1}}})"
                                     << "graph: task 'x': 'args' must be a list, not int";
    QTest::newRow("kwargs not an object")
        << R"({"tasks": {"x": {"function": "f", "kwargs": [1]}}})"
        << "graph: task 'x': 'kwargs' must be an object, not list";
    QTest::newRow("kwargs is a ref")
        << R"({"tasks": {"x": {"function": "f", "kwargs": {"$ref": "x"}}}})"
        << "graph: task 'x': 'kwargs' must be an object, not future";
    QTest::newRow("retries negative") << R"({"tasks": {"x": {"function": "f", "retries": -1}}})"
                                      << "graph: task 'x': 'retries' must be an integer from 0 to "
                                         "1000000";
    QTest::newRow("retries float") << R"({"tasks": {"x": {"function": "f", "retries": 1.5}}})"
                                   << "graph: task 'x': 'retries' must be an integer";
    QTest::newRow("retries huge")
        << R"({"tasks": {"x": {"function": "f", "retries": 99999999999}}})"
        << "graph: task 'x': 'retries' must be an integer";
    QTest::newRow("unknown task field")
        << R"({"tasks": {"x": {"function": "f", "arg": [1]}}})"
        << "graph: task 'x': unknown field 'arg' (expected function, args, kwargs, retries)";
    QTest::newRow("outputs not a list") << R"({"tasks": {"x": {"function": "f"}}, "outputs": "x"})"
                                        << "graph: 'outputs' must be a list of task names, not str";
    QTest::newRow("output not a string")
        << R"({"tasks": {"x": {"function": "f"}}, "outputs": [1]})"
        << "graph: 'outputs' must hold task names (strings), found int";
    QTest::newRow("unknown output") << R"({"tasks": {"x": {"function": "f"}}, "outputs": ["y"]})"
                                    << "graph: output 'y' names no task in the graph";
    QTest::newRow("duplicate output")
        << R"({"tasks": {"x": {"function": "f"}}, "outputs": ["x", "x"]})"
        << "graph: output 'x' is listed twice";
    QTest::newRow("duplicate task")
        << R"({"tasks": {"x": {"function": "f"}, "x": {"function": "g"}}})"
        << "graph: malformed JSON: line 1, column 36 (offset 35): "
           "duplicate key \"x\"";
    QTest::newRow("bad $bytes") << R"({"tasks": {"x": {"function": "f", "args": [{"$bytes": 5}]}}})"
                                << "graph: malformed JSON: line 1, column 44 (offset 43): "
                                   "\"$bytes\" must be a base64 string";
    QTest::newRow("dangling ref")
        << R"({"tasks": {"x": {"function": "f", "args": [{"$ref": "nope"}]}}})"
        << "graph: task 'x' refers to 'nope' ({\"$ref\": \"nope\"}), which names no task in the "
           "graph";
    QTest::newRow("dangling ref nested in list and map") << R"({"tasks": {"a": {"function": "f"},
                         "x": {"function": "f", "args": [[1, {"k": {"$ref": "ghost"}}]]}}})"
                                                         << "graph: task 'x' refers to 'ghost'";
    QTest::newRow("dangling ref in kwargs")
        << R"({"tasks": {"x": {"function": "f", "kwargs": {"y": {"$ref": "missing"}}}}})"
        << "graph: task 'x' refers to 'missing'";
    QTest::newRow("self reference")
        << R"({"tasks": {"x": {"function": "f", "args": [{"$ref": "x"}]}}})"
        << "graph: dependency cycle: x -> x (each task needs the next)";
    QTest::newRow("two-task cycle")
        << R"({"tasks": {"a": {"function": "f", "args": [{"$ref": "b"}]},
                         "b": {"function": "f", "args": [{"$ref": "a"}]}}})"
        << "graph: dependency cycle: a -> b -> a (each task needs the next)";
    QTest::newRow("cycle behind a good start")
        << R"({"tasks": {"start": {"function": "f"},
                         "a": {"function": "f", "args": [{"$ref": "start"}, {"$ref": "c"}]},
                         "b": {"function": "f", "args": [[{"$ref": "a"}]]},
                         "c": {"function": "f", "kwargs": {"v": {"$ref": "b"}}},
                         "d": {"function": "f", "args": [{"$ref": "c"}]}}})"
        << "graph: dependency cycle: a -> c -> b -> a (each task needs the next)";
}

void tst_TaskGraph::test_malformed()
{
    QFETCH(QString, json);
    QFETCH(QString, error);
    std::string message;
    const auto graph = TaskGraph::fromJson(json.toStdString(), &message);
    QVERIFY(!graph);
    QVERIFY2(QString::fromStdString(message).startsWith(error), message.c_str());
    QVERIFY(!TaskGraph::fromJson(json.toStdString(), nullptr));
}

void tst_TaskGraph::test_programmaticGraphErrors()
{
    TaskGraph graph;
    graph.tasks["a"] = task("f", {Value::list({Value::ref("zz")})});
    std::string error;
    QVERIFY(!graph.topologicalOrder(&error));
    QCOMPARE(error,
             std::string("task 'a' refers to 'zz' ({\"$ref\": \"zz\"}), which names no task in "
                         "the graph"));

    graph.tasks["zz"] = task("f");
    graph.tasks["zz"].kwargs["back"] = Value::ref("a");
    QVERIFY(!graph.topologicalOrder(&error));
    QCOMPARE(error, std::string("dependency cycle: a -> zz -> a (each task needs the next)"));

    graph.tasks["zz"].kwargs.clear();
    const auto order = graph.topologicalOrder(&error);
    QVERIFY(order);
    QCOMPARE(*order, (Names{"zz", "a"}));
    QVERIFY(TaskGraph().topologicalOrder(nullptr)->empty());
}

void tst_TaskGraph::test_longCycleIsShortened_data()
{
    QTest::addColumn<int>("length");
    QTest::addColumn<QString>("error");
    // Up to 11 tasks every name is shown; past that the first 10 and how many are left out.
    QTest::addRow("11 tasks") << 11
                              << "dependency cycle: t00 -> t01 -> t02 -> t03 -> t04 -> t05 -> "
                                 "t06 -> t07 -> t08 -> t09 -> t10 -> t00 (each task needs the "
                                 "next)";
    QTest::addRow("12 tasks") << 12
                              << "dependency cycle: t00 -> t01 -> t02 -> t03 -> t04 -> t05 -> "
                                 "t06 -> t07 -> t08 -> t09 -> ... (2 more) ... -> t00 (each task "
                                 "needs the next)";
    QTest::addRow("100,000 tasks") << 100000
                                   << "dependency cycle: t00 -> t01 -> t02 -> t03 -> t04 -> t05 "
                                      "-> t06 -> t07 -> t08 -> t09 -> ... (99990 more) ... -> "
                                      "t00 (each task needs the next)";
}

void tst_TaskGraph::test_longCycleIsShortened()
{
    // A ring t00 -> t01 -> ... -> t00, each task needing the next.
    QFETCH(int, length);
    QFETCH(QString, error);
    const auto name = [](int i) { return (i < 10 ? "t0" : "t") + std::to_string(i); };
    TaskGraph graph;
    for (int i = 0; i < length; ++i)
        graph.tasks[name(i)] = task("f", {Value::ref(name((i + 1) % length))});
    std::string message;
    QVERIFY(!graph.topologicalOrder(&message));
    QCOMPARE(QString::fromStdString(message), error);
}

QTEST_MAIN(tst_TaskGraph)
#include "tst_taskgraph.moc"
