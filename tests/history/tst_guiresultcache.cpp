// The result cache in the workbench: each GUI cluster gets the history database's cache
// while the setting is on; a second cluster serves the first one's pure results from it; the
// History panel's box shows what it holds, and "Clear result cache" empties it (the running
// cluster's index too); with the setting off the next cluster runs without a cache.
#include "guifixture.h"
#include "enginebridge.h"
#include "futuresmodel.h"
#include "guirecorder.h"
#include "guiresultcache.h"
#include "historypanel.h"
#include "resultcachebox.h"

#include <QApplication>
#include <QCheckBox>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace taskbench;
using namespace taskbench::gui;

namespace {

struct Stats
{
    qint64 entries = -1;
    quint64 hits = 0;
    quint64 misses = 0;
};

/// Asks the cache and waits for its answer.
Stats statsOf(GuiResultCache &cache)
{
    QSignalSpy ready(&cache, &GuiResultCache::statsReady);
    cache.requestStats();
    if (!ready.wait(20000))
        return {};
    const QList<QVariant> a = ready.takeFirst();
    return {a.at(0).toLongLong(), a.at(3).toULongLong(), a.at(4).toULongLong()};
}

} // namespace

class TestGuiResultCache : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_guiresultcache"));
        QSettings settings;
        settings.clear();
        settings.setValue("history/database", m_dir.filePath("history.sqlite"));
        settings.setValue("history/record", true);
    }

    void test_secondClusterServedFromCacheThenCleared();
};

void TestGuiResultCache::test_secondClusterServedFromCacheThenCleared()
{
    QVERIFY(GuiResultCache::enabled()); // on by default
    QCOMPARE(GuiResultCache::maxMegabytes(), 256);
    FuturesModel futures;
    EngineBridge bridge(&futures);
    testsupport::useBundledPlugins(*bridge.catalog());
    bridge.catalog()->scan();
    GuiRecorder recorder(&bridge);
    GuiResultCache cache(&bridge, &recorder);
    QSignalSpy started(&recorder, &GuiRecorder::sessionStarted);
    ClusterOptions options;
    options.workers = 2;
    bridge.start(options);
    QVERIFY(cache.active());
    QVERIFY(started.wait(20000));

    std::vector<std::vector<Value>> args;
    for (int i = 0; i < 5; ++i)
        args.push_back({Value(i)});
    bridge.mapArgs("bench.inc", args, {});
    QTRY_COMPARE_WITH_TIMEOUT(futures.count(FutureStatus::Finished), 5, 20000);
    // Stores are written by the cache's own thread: poll the database.
    QTRY_COMPARE_WITH_TIMEOUT(statsOf(cache).entries, qint64(5), 20000);
    Stats first = statsOf(cache);
    QCOMPARE(first.hits, quint64(0));
    QCOMPARE(first.misses, quint64(5));
    const qint64 firstSession = started.at(0).at(0).toLongLong();
    QVERIFY(firstSession > 0);
    // The futures table's Cached column: empty for computed results.
    QCOMPARE(futures.headerData(FuturesModel::Cached, Qt::Horizontal, Qt::DisplayRole),
             QVariant(QStringLiteral("Cached")));
    for (int row = 0; row < futures.rowCount(); ++row) {
        QCOMPARE(futures.rows()[std::size_t(row)].cachedSession, qint64(-1));
        QCOMPARE(futures.index(row, FuturesModel::Cached).data().toString(), QString());
    }

    // A new cluster: the same calls are hits, none is a miss (three of the five now; the
    // other two, still cached, wait for the clear below).
    bridge.restart(options);
    QVERIFY(cache.active());
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 2, 20000);
    futures.clear();
    const std::vector<std::vector<Value>> firstThree(args.begin(), args.begin() + 3);
    const std::vector<std::vector<Value>> lastTwo(args.begin() + 3, args.end());
    bridge.mapArgs("bench.inc", firstThree, {});
    QTRY_COMPARE_WITH_TIMEOUT(futures.count(FutureStatus::Finished), 3, 20000);
    const Stats second = statsOf(cache);
    QCOMPARE(second.hits, quint64(3));
    QCOMPARE(second.misses, quint64(0));
    // Each hit says so, and which session computed it.
    QCOMPARE(futures.rowCount(), 3);
    for (int row = 0; row < futures.rowCount(); ++row) {
        QCOMPARE(futures.rows()[std::size_t(row)].cachedSession, firstSession);
        const QModelIndex cell = futures.index(row, FuturesModel::Cached);
        QCOMPARE(cell.data().toString(), QStringLiteral("session %1").arg(firstSession));
        QVERIFY(cell.data(Qt::ToolTipRole).toString().contains(QLatin1String("result cache")));
    }

    // The panel's controls: named, and "Clear result cache" empties it (the cache's own call
    // here; the button and the menu action ask first).
    HistoryPanel panel(&bridge, &recorder);
    ResultCacheBox *box = panel.addResultCache(&cache);
    QCOMPARE(box->accessibleName(), QString("Result cache"));
    QStringList names;
    for (QWidget *w : box->findChildren<QWidget *>())
        names << w->accessibleName();
    for (const char *name :
         {"Use result cache", "Cache limit", "Result cache summary", "Clear result cache"})
        QVERIFY2(names.contains(QString::fromUtf8(name)), name);
    QSignalSpy cleared(&cache, &GuiResultCache::cleared);
    cache.clear();
    QVERIFY(cleared.wait(20000));
    QCOMPARE(cleared.at(0).at(0).toLongLong(), qint64(5));
    QCOMPARE(statsOf(cache).entries, qint64(0));
    // The running cluster's index was cleared too: the two calls it had cached compute.
    bridge.mapArgs("bench.inc", lastTwo, {});
    QTRY_COMPARE_WITH_TIMEOUT(futures.count(FutureStatus::Finished), 5, 20000);
    const Stats third = statsOf(cache);
    QCOMPARE(third.hits, quint64(3));
    QCOMPARE(third.misses, quint64(2));
    int computed = 0;
    for (const FutureRow &r : futures.rows())
        computed += r.cachedSession < 0 ? 1 : 0;
    QCOMPARE(computed, 2);

    // Off: the next cluster has no cache.
    box->findChild<QCheckBox *>()->setChecked(false);
    QVERIFY(!GuiResultCache::enabled());
    bridge.restart(options);
    QVERIFY(!cache.active());
    GuiResultCache::setEnabled(true);
}

QTEST_MAIN(TestGuiResultCache)
#include "tst_guiresultcache.moc"
