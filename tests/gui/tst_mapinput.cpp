// Map inputs: ranges, pasted lists, JSON lines and CSV, with their error messages.
#include "mapinput.h"

#include <QTest>

using namespace taskbench;
using namespace taskbench::gui;

class tst_MapInput : public QObject
{
    Q_OBJECT
private slots:
    void test_range_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("count");
        QTest::addColumn<QString>("first");
        QTest::addColumn<QString>("last");
        QTest::newRow("inclusive") << "0..9" << 10 << "0"
                                   << "9";
        QTest::newRow("step") << "0..100:5" << 21 << "0"
                              << "100";
        QTest::newRow("spaces") << " 1 .. 3 " << 3 << "1"
                                << "3";
        QTest::newRow("descending") << "5..1" << 5 << "5"
                                    << "1";
        QTest::newRow("python") << "range(10)" << 10 << "0"
                                << "9";
        QTest::newRow("python start stop") << "range(2, 5)" << 3 << "2"
                                           << "4";
        QTest::newRow("python step") << "range(0, 10, 3)" << 4 << "0"
                                     << "9";
        QTest::newRow("negative") << "-2..2" << 5 << "-2"
                                  << "2";
        QTest::newRow("float") << "0..1:0.25" << 5 << "0"
                               << "1";
    }
    void test_range()
    {
        QFETCH(QString, text);
        QFETCH(int, count);
        QFETCH(QString, first);
        QFETCH(QString, last);
        QVERIFY(mapinput::looksLikeRange(text));
        QString error;
        auto v = mapinput::parseRange(text, &error);
        QVERIFY2(v, qPrintable(error));
        QCOMPARE(int(v->size()), count);
        QCOMPARE(v->front().toDouble(), first.toDouble());
        QCOMPARE(v->back().toDouble(), last.toDouble());
    }

    void test_rangeIntsStayInts()
    {
        auto v = mapinput::parseRange(QStringLiteral("0..3"), nullptr);
        QVERIFY(v);
        QVERIFY(v->at(1).isInt());
        auto f = mapinput::parseRange(QStringLiteral("0..1:0.5"), nullptr);
        QVERIFY(f);
        QVERIFY(f->at(1).isDouble());
    }

    void test_rangeErrors()
    {
        QString error;
        QVERIFY(!mapinput::parseRange(QStringLiteral("0..10:0"), &error));
        QVERIFY(error.contains(QLatin1String("zero")));
        QVERIFY(!mapinput::parseRange(QStringLiteral("0..100000000000"), &error));
        QVERIFY(error.contains(QLatin1String("limit")));
        QVERIFY(!mapinput::looksLikeRange(QStringLiteral("1, 2, 3")));
    }

    void test_list_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("count");
        QTest::newRow("commas") << "1, 2, 3" << 3;
        QTest::newRow("spaces") << "1 2 3 4" << 4;
        QTest::newRow("lines") << "1\n2\n\n3\n" << 3;
        QTest::newRow("json array") << "[1, 2, [3, 4]]" << 3;
        QTest::newRow("quoted with comma") << "\"a, b\", c" << 2;
        QTest::newRow("nested stays whole") << "[1, 2], {\"a\": 1}" << 2;
        QTest::newRow("semicolons") << "1;2;3" << 3;
    }
    void test_list()
    {
        QFETCH(QString, text);
        QFETCH(int, count);
        QString error;
        auto v = mapinput::parseList(text, &error);
        QVERIFY2(v, qPrintable(error));
        QCOMPARE(int(v->size()), count);
    }

    void test_listTypes()
    {
        auto v = mapinput::parseList(QStringLiteral("1, 2.5, true, hello, \"x y\", null"), nullptr);
        QVERIFY(v);
        QCOMPARE(v->size(), std::size_t(6));
        QVERIFY(v->at(0).isInt());
        QVERIFY(v->at(1).isDouble());
        QVERIFY(v->at(2).isBool());
        QCOMPARE(v->at(3), Value("hello"));
        QCOMPARE(v->at(4), Value("x y"));
        QVERIFY(v->at(5).isNull());
    }

    void test_listErrors()
    {
        QString error;
        QVERIFY(!mapinput::parseList(QString(), &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(!mapinput::parseList(QStringLiteral("\"open"), &error));
        QVERIFY(!mapinput::parseList(QStringLiteral("[1, 2"), &error));
        QVERIFY(error.contains(QLatin1String("JSON")));
    }

    void test_parseValuesPicksRangeOrList()
    {
        QCOMPARE(mapinput::parseValues(QStringLiteral("0..4"), nullptr)->size(), std::size_t(5));
        QCOMPARE(mapinput::parseValues(QStringLiteral("7, 8"), nullptr)->size(), std::size_t(2));
    }

    void test_jsonLines()
    {
        QString error;
        auto v
            = mapinput::parseJsonLines(QStringLiteral("1\n\n[1, 2]\n{\"x\": 3}\n\"s\"\n"), &error);
        QVERIFY2(v, qPrintable(error));
        QCOMPARE(v->size(), std::size_t(4));
        QVERIFY(v->at(1).isList());
        QVERIFY(v->at(2).isMap());
        QVERIFY(!mapinput::parseJsonLines(QStringLiteral("1\n{bad\n"), &error));
        QVERIFY2(error.startsWith(QLatin1String("Line 2")), qPrintable(error));
    }

    void test_csv()
    {
        const QString text = QStringLiteral("x,y,name\n1,2.5,\"a, b\"\n3,4,\"say \"\"hi\"\"\"\n");
        QVERIFY(mapinput::csvLooksLikeHeader(text));
        QString error;
        auto t = mapinput::parseCsv(text, true, &error);
        QVERIFY2(t, qPrintable(error));
        QCOMPARE(t->header, (QStringList{"x", "y", "name"}));
        QCOMPARE(t->rows.size(), std::size_t(2));
        QVERIFY(t->rows[0][0].isInt());
        QVERIFY(t->rows[0][1].isDouble());
        QCOMPARE(t->rows[0][2], Value("a, b"));
        QCOMPARE(t->rows[1][2], Value("say \"hi\""));
    }

    void test_csvWithoutHeader()
    {
        const QString text = QStringLiteral("1,2\r\n3,4\r\n");
        QVERIFY(!mapinput::csvLooksLikeHeader(text));
        auto t = mapinput::parseCsv(text, false, nullptr);
        QVERIFY(t);
        QVERIFY(t->header.isEmpty());
        QCOMPARE(t->rows.size(), std::size_t(2));
        QCOMPARE(t->rows[1][1], Value(4));
    }

    void test_csvErrors()
    {
        QString error;
        QVERIFY(!mapinput::parseCsv(QStringLiteral("a,b\n1\n"), true, &error));
        QVERIFY(error.contains(QLatin1String("Row 2")));
        QVERIFY(!mapinput::parseCsv(QStringLiteral("a\n\"open\n"), true, &error));
        QVERIFY(!mapinput::parseCsv(QStringLiteral("a,b\n"), true, &error));
    }
};

QTEST_GUILESS_MAIN(tst_MapInput)
#include "tst_mapinput.moc"
