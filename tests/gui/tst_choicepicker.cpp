// The choice picker, the one widget for every choice in the workbench: text that names an
// entry commits it at once (typed, or set through the accessibility interface as AT-SPI
// does), other text is shown as pending and never committed, Enter takes the only entry
// containing the text, leaving the field restores the choice, Up/Down step through entries.
#include "choicepicker.h"

#include <QAbstractItemView>
#include <QAccessible>
#include <QAccessibleEditableTextInterface>
#include <QCompleter>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTest>
#include <QVBoxLayout>

using namespace taskbench::gui;

namespace {

struct Fixture
{
    QWidget window;
    ChoicePicker *picker;
    QLineEdit *other;

    Fixture()
    {
        auto *layout = new QVBoxLayout(&window);
        picker = new ChoicePicker(&window);
        picker->setAccessibleName(QStringLiteral("Function"));
        for (const char *name : {"bench.inc", "tutorial.inc", "tutorial.flaky_inc", "tutorial.sum"})
            picker->addChoice(QString::fromLatin1(name), QString::fromLatin1(name));
        other = new QLineEdit(&window);
        layout->addWidget(picker);
        layout->addWidget(other);
    }
};

} // namespace

class tst_ChoicePicker : public QObject
{
    Q_OBJECT
private slots:
    void test_exactTextCommits_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("index");
        QTest::newRow("exact") << QStringLiteral("tutorial.inc") << 1;
        QTest::newRow("other case") << QStringLiteral("TUTORIAL.Flaky_Inc") << 2;
        QTest::newRow("spaces") << QStringLiteral("  tutorial.sum ") << 3;
    }
    void test_exactTextCommits()
    {
        QFETCH(QString, text);
        QFETCH(int, index);
        Fixture f;
        QCOMPARE(f.picker->currentIndex(), 0);
        QSignalSpy changed(f.picker, &QComboBox::currentIndexChanged);
        f.picker->lineEdit()->setText(text);
        QCOMPARE(f.picker->currentIndex(), index);
        QCOMPARE(changed.count(), 1);
        QVERIFY(!f.picker->hasPendingText());
        QCOMPARE(f.picker->currentData().toString(), f.picker->itemText(index));
        // The description names the committed choice (the text may be half typed).
        QVERIFY(f.picker->lineEdit()->accessibleDescription().startsWith(
            f.picker->itemText(index) + QStringLiteral(" chosen.")));
    }

    void test_unknownTextIsPendingAndNotCommitted()
    {
        Fixture f;
        f.picker->setCurrentIndex(1);
        QSignalSpy changed(f.picker, &QComboBox::currentIndexChanged);
        f.picker->lineEdit()->setText(QStringLiteral("tutorial.nope"));
        QCOMPARE(f.picker->currentIndex(), 1);
        QCOMPARE(changed.count(), 0);
        QVERIFY(f.picker->hasPendingText());
        QVERIFY(f.picker->lineEdit()->accessibleDescription().contains(QStringLiteral(
            "No entry matches \"tutorial.nope\"; the choice is still tutorial.inc")));
        // Fixing the text clears the state.
        f.picker->lineEdit()->setText(QStringLiteral("bench.inc"));
        QCOMPARE(f.picker->currentIndex(), 0);
        QVERIFY(!f.picker->hasPendingText());
    }

    void test_enterTakesTheOnlyEntryContainingTheText()
    {
        Fixture f;
        f.window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&f.window));
        f.picker->setFocus();
        QTRY_VERIFY(f.picker->hasFocus());
        QSignalSpy rejected(f.picker, &ChoicePicker::textRejected);
        f.picker->lineEdit()->setText(QStringLiteral("flaky"));
        QVERIFY(f.picker->hasPendingText());
        QCOMPARE(f.picker->matches(QStringLiteral("flaky")), QList<int>{2});
        QVERIFY(f.picker->commitText());
        QCOMPARE(f.picker->currentIndex(), 2);
        QCOMPARE(f.picker->lineEdit()->text(), QStringLiteral("tutorial.flaky_inc"));
        // Several entries contain "inc": nothing is committed, the text stays marked.
        f.picker->lineEdit()->setText(QStringLiteral("inc"));
        QVERIFY(!f.picker->commitText());
        QCOMPARE(f.picker->currentIndex(), 2);
        QVERIFY(f.picker->hasPendingText());
        QCOMPARE(rejected.count(), 1);
        QCOMPARE(rejected.first().first().toString(), QStringLiteral("inc"));
    }

    void test_typingAndEnterFromTheKeyboard()
    {
        Fixture f;
        f.window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&f.window));
        f.picker->setFocus();
        QTRY_VERIFY(f.picker->hasFocus());
        f.picker->lineEdit()->selectAll();
        QTest::keyClicks(f.picker, QStringLiteral("sum"));
        QCOMPARE(f.picker->currentIndex(), 0); // "sum" alone names no entry
        QVERIFY(f.picker->hasPendingText());
        // The completer lists what contains the text.
        QTRY_VERIFY(f.picker->completer()->popup()->isVisible());
        QCOMPARE(f.picker->completer()->completionCount(), 1);
        QTest::keyClick(f.picker->completer()->popup(), Qt::Key_Down);
        QTest::keyClick(f.picker->completer()->popup(), Qt::Key_Return);
        QTRY_COMPARE(f.picker->currentIndex(), 3);
        QVERIFY(!f.picker->hasPendingText());
    }

    void test_upDownStepThroughEntries()
    {
        Fixture f;
        f.window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&f.window));
        f.picker->setFocus();
        QTRY_VERIFY(f.picker->hasFocus());
        QTest::keyClick(f.picker, Qt::Key_Down);
        QCOMPARE(f.picker->currentIndex(), 1);
        QTest::keyClick(f.picker, Qt::Key_Down);
        QCOMPARE(f.picker->currentIndex(), 2);
        QTest::keyClick(f.picker, Qt::Key_Up);
        QCOMPARE(f.picker->currentIndex(), 1);
        QCOMPARE(f.picker->lineEdit()->text(), QStringLiteral("tutorial.inc"));
    }

    void test_leavingRestoresTheChoice()
    {
        Fixture f;
        f.window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&f.window));
        f.picker->setFocus();
        QTRY_VERIFY(f.picker->hasFocus());
        f.picker->lineEdit()->setText(QStringLiteral("zzz"));
        QVERIFY(f.picker->hasPendingText());
        f.other->setFocus();
        QTRY_VERIFY(f.other->hasFocus());
        QCOMPARE(f.picker->lineEdit()->text(), QStringLiteral("bench.inc"));
        QVERIFY(!f.picker->hasPendingText());
        QCOMPARE(f.picker->currentIndex(), 0);
    }

    void test_accessibleTextSetsTheChoice()
    {
        // What a screen reader or an AT-SPI client does: find the text field by name and
        // replace its contents; the choice follows without any key press.
        Fixture f;
        f.window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&f.window));
        QCOMPARE(f.picker->lineEdit()->accessibleName(), QStringLiteral("Function"));
        QAccessibleInterface *iface = QAccessible::queryAccessibleInterface(f.picker->lineEdit());
        QVERIFY(iface);
        QCOMPARE(iface->text(QAccessible::Name), QStringLiteral("Function"));
        QAccessibleEditableTextInterface *edit = iface->editableTextInterface();
        QVERIFY(edit);
        const int length = iface->textInterface()->characterCount();
        edit->replaceText(0, length, QStringLiteral("tutorial.flaky_inc"));
        QCOMPARE(f.picker->currentIndex(), 2);
        QCOMPARE(f.picker->currentData().toString(), QStringLiteral("tutorial.flaky_inc"));
    }

    void test_clearingTheEntriesLeavesNoPendingText()
    {
        Fixture f;
        f.picker->clear();
        QCOMPARE(f.picker->currentIndex(), -1);
        QVERIFY(!f.picker->hasPendingText());
        f.picker->addChoice(QStringLiteral("a.one"), QStringLiteral("a.one"));
        QCOMPARE(f.picker->currentIndex(), 0);
        QCOMPARE(f.picker->lineEdit()->text(), QStringLiteral("a.one"));
    }
};

QTEST_MAIN(tst_ChoicePicker)
#include "tst_choicepicker.moc"
