// The `--bench-gui` figures of the inspect views: runGuiBenchmarks() prints each figure as
// a well-formed JSON line (run at a small scale here; figures are not asserted, machines are
// noisy: `taskbench --bench-gui` measures the real sizes).
#include "inspect/inspectbench.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryFile>
#include <QtTest>

#include <cstdio>

using namespace taskbench::inspect;

class tst_InspectBench : public QObject
{
    Q_OBJECT
private slots:
    void test_printsEveryFigureAsJson()
    {
        GuiBenchOptions options;
        options.layoutTasks = 200;
        options.collapsedTasks = 5000;
        options.streamExecutions = 5000;
        options.streamFrames = 3;
        options.windowSize = QSize(800, 600);
        std::FILE *out = std::tmpfile();
        QVERIFY(out);
        QCOMPARE(runGuiBenchmarks(options, out), 0);
        std::rewind(out);
        QStringList names;
        char line[512];
        while (std::fgets(line, sizeof line, out)) {
            QJsonParseError error;
            const QJsonDocument doc = QJsonDocument::fromJson(QByteArray(line).trimmed(), &error);
            QVERIFY2(error.error == QJsonParseError::NoError, line);
            const QJsonObject o = doc.object();
            QVERIFY(o.value(QStringLiteral("value")).isDouble());
            QVERIFY(o.value(QStringLiteral("value")).toDouble() >= 0);
            names << o.value(QStringLiteral("figure")).toString();
        }
        std::fclose(out);
        QCOMPARE(names,
                 (QStringList{"layout_2000_ms",
                              "max_stall_ms_layout_2000",
                              "collapsed_100k_ms",
                              "stream_frame_ms_100k"}));
    }
};

QTEST_MAIN(tst_InspectBench)
#include "tst_inspectbench.moc"
