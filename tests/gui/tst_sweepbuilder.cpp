// Sweep builder: zip and grid counts, broadcasting, order and limits.
#include "sweepbuilder.h"

#include <QTest>

using namespace taskbench;
using namespace taskbench::gui;

class tst_SweepBuilder : public QObject
{
    Q_OBJECT
private slots:
    void test_count_data()
    {
        QTest::addColumn<QList<int>>("sizes");
        QTest::addColumn<bool>("grid");
        QTest::addColumn<int>("expected");
        QTest::newRow("zip equal") << QList<int>{10, 10} << false << 10;
        QTest::newRow("grid 10x10") << QList<int>{10, 10} << true << 100;
        QTest::newRow("grid 3x4x5") << QList<int>{3, 4, 5} << true << 60;
        QTest::newRow("zip broadcast one") << QList<int>{1, 7} << false << 7;
        QTest::newRow("zip shortest") << QList<int>{3, 5} << false << 3;
        QTest::newRow("zip all single") << QList<int>{1, 1} << false << 1;
        QTest::newRow("grid with empty") << QList<int>{4, 0} << true << 0;
        QTest::newRow("zip with empty") << QList<int>{4, 0} << false << 0;
        QTest::newRow("one param") << QList<int>{9} << false << 9;
        QTest::newRow("one param grid") << QList<int>{9} << true << 9;
    }
    void test_count()
    {
        QFETCH(QList<int>, sizes);
        QFETCH(bool, grid);
        QFETCH(int, expected);
        std::vector<std::size_t> s(sizes.begin(), sizes.end());
        QCOMPARE(sweepCount(s, grid ? SweepMode::Grid : SweepMode::Zip), std::size_t(expected));
    }

    void test_zipWarnsOnMismatch()
    {
        QString warning;
        QCOMPARE(sweepCount({3, 5}, SweepMode::Zip, &warning), std::size_t(3));
        QVERIFY(!warning.isEmpty());
        warning.clear();
        sweepCount({5, 5}, SweepMode::Zip, &warning);
        QVERIFY(warning.isEmpty());
    }

    void test_gridOverflowSaturates()
    {
        const std::size_t big = std::size_t(1) << 40;
        QCOMPARE(sweepCount({big, big}, SweepMode::Grid), std::numeric_limits<std::size_t>::max());
    }

    void test_buildGridOrder()
    {
        auto args = buildSweep({{Value(1), Value(2)}, {Value("a"), Value("b"), Value("c")}},
                               SweepMode::Grid,
                               100,
                               nullptr);
        QVERIFY(args);
        QCOMPARE(args->size(), std::size_t(6));
        // The last parameter varies fastest.
        QCOMPARE((*args)[0][0], Value(1));
        QCOMPARE((*args)[0][1], Value("a"));
        QCOMPARE((*args)[1][1], Value("b"));
        QCOMPARE((*args)[3][0], Value(2));
        QCOMPARE((*args)[3][1], Value("a"));
    }

    void test_buildZipBroadcast()
    {
        auto args = buildSweep(
            {{Value(10)}, {Value(1), Value(2), Value(3)}}, SweepMode::Zip, 100, nullptr);
        QVERIFY(args);
        QCOMPARE(args->size(), std::size_t(3));
        QCOMPARE((*args)[2][0], Value(10));
        QCOMPARE((*args)[2][1], Value(3));
    }

    void test_buildLimit()
    {
        QString error;
        std::vector<Value> ten(10, Value(0));
        auto args = buildSweep({ten, ten, ten}, SweepMode::Grid, 999, &error);
        QVERIFY(!args);
        QVERIFY(error.contains(QLatin1String("1000")));
    }
};

QTEST_GUILESS_MAIN(tst_SweepBuilder)
#include "tst_sweepbuilder.moc"
