// Accessibility of the main window: every interactive widget has an accessible name (or a
// label buddy), the views expose column headers, the key actions have their shortcuts.
#include "guifixture.h"
#include "choicepicker.h"
#include "enginebridge.h"
#include "mainwindow.h"
#include "submitform.h"

#include <QAbstractButton>
#include <QAbstractItemView>
#include <QAbstractSpinBox>
#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QTabBar>
#include <QTest>
#include <QToolBar>

using namespace taskbench;
using namespace taskbench::gui;

namespace {

/// Parts of composite Qt widgets (a spin box's line edit, a dock's float button, a line
/// edit's clear button, a combo box's popup) are named by their owner.
bool isInternal(QWidget *w)
{
    if (w->objectName().startsWith(QLatin1String("qt_")))
        return true;
    if (qobject_cast<QHeaderView *>(w))
        return true;
    for (QWidget *p = w->parentWidget(); p; p = p->parentWidget()) {
        if (qobject_cast<QAbstractSpinBox *>(p) || qobject_cast<QComboBox *>(p)
            || qobject_cast<QLineEdit *>(p) || qobject_cast<QTabBar *>(p)
            || qobject_cast<QHeaderView *>(p))
            return true;
        if (qobject_cast<QAbstractItemView *>(p) && qobject_cast<QAbstractButton *>(w))
            return true; // the table's corner button
        if (qobject_cast<QDockWidget *>(p) && p == w->parentWidget()
            && qobject_cast<QAbstractButton *>(w))
            return true; // dock title bar buttons
        if (w->inherits("QComboBoxPrivateContainer") || p->inherits("QComboBoxPrivateContainer"))
            return true;
    }
    return false;
}

QSet<QWidget *> buddies(QWidget *root)
{
    QSet<QWidget *> out;
    for (QLabel *l : root->findChildren<QLabel *>())
        if (l->buddy())
            out.insert(l->buddy());
    return out;
}

} // namespace

class tst_Accessibility : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_accessibility"));
    }

    void test_everyInteractiveWidgetIsNamed()
    {
        MainWindow w;
        // Plugins only (no cluster needed): the submit and map forms then have fields.
        testsupport::useBundledPlugins(*w.bridge()->catalog());
        w.bridge()->catalog()->scan();
        w.submitForm()->setCurrentFunction(QStringLiteral("bench.add"));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(!w.submitForm()->fields().empty());

        const QSet<QWidget *> labelled = buddies(&w);
        QStringList unnamed;
        int checked = 0;
        for (QWidget *child : w.findChildren<QWidget *>()) {
            const bool interactive
                = qobject_cast<QAbstractButton *>(child) || qobject_cast<QLineEdit *>(child)
                  || qobject_cast<QAbstractItemView *>(child)
                  || qobject_cast<QAbstractSpinBox *>(child) || qobject_cast<QComboBox *>(child);
            if (!interactive || isInternal(child))
                continue;
            ++checked;
            if (child->accessibleName().trimmed().isEmpty() && !labelled.contains(child))
                unnamed << QStringLiteral("%1 '%2' in %3")
                               .arg(QString::fromLatin1(child->metaObject()->className()),
                                    child->objectName(),
                                    child->parentWidget() ? QString::fromLatin1(
                                        child->parentWidget()->metaObject()->className())
                                                          : QString());
        }
        QVERIFY2(unnamed.isEmpty(), qPrintable(unnamed.join(QStringLiteral("\n"))));
        QVERIFY(checked > 30);
    }

    void test_everyChoiceIsAPicker()
    {
        // A plain QComboBox cannot be set over AT-SPI (Qt 6.4): every choice is a picker.
        MainWindow w;
        testsupport::useBundledPlugins(*w.bridge()->catalog());
        w.bridge()->catalog()->scan();
        w.submitForm()->setCurrentFunction(QStringLiteral("bench.add"));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const QList<QComboBox *> combos = w.findChildren<QComboBox *>();
        QVERIFY(combos.size() >= 6);
        for (QComboBox *c : combos) {
            QVERIFY2(qobject_cast<ChoicePicker *>(c), qPrintable(c->accessibleName()));
            QVERIFY(c->isEditable());
            QCOMPARE(c->lineEdit()->accessibleName(), c->accessibleName());
        }
    }

    void test_keyWidgetsFoundByName()
    {
        MainWindow w;
        auto find = [&w](const QString &name) {
            for (QWidget *c : w.findChildren<QWidget *>())
                if (c->accessibleName() == name)
                    return c;
            return static_cast<QWidget *>(nullptr);
        };
        for (const char *name : {"Submit",
                                 "Futures",
                                 "Retry all failed",
                                 "Plugins",
                                 "Errors",
                                 "Progress",
                                 "Log",
                                 "Map",
                                 "Filter futures",
                                 "Status filter",
                                 "Retry root causes only",
                                 "Retry with downstream",
                                 "Edit and retry",
                                 "Load plugin",
                                 "Reload plugins",
                                 "Function"})
            QVERIFY2(find(QString::fromLatin1(name)), name);
    }

    void test_tablesExposeColumnHeaders()
    {
        MainWindow w;
        for (QAbstractItemView *v : w.findChildren<QAbstractItemView *>()) {
            if (isInternal(v) || !v->model() || v->model()->columnCount() < 2)
                continue;
            for (int c = 0; c < v->model()->columnCount(); ++c)
                QVERIFY2(!v->model()
                              ->headerData(c, Qt::Horizontal, Qt::DisplayRole)
                              .toString()
                              .isEmpty(),
                         qPrintable(v->accessibleName()));
        }
    }

    void test_shortcuts_data()
    {
        QTest::addColumn<QString>("action");
        QTest::addColumn<QKeySequence>("shortcut");
        QTest::newRow("submit") << "submit" << QKeySequence(Qt::CTRL | Qt::Key_Return);
        QTest::newRow("retry") << "retry" << QKeySequence(Qt::CTRL | Qt::Key_R);
        QTest::newRow("release") << "release" << QKeySequence(Qt::Key_Delete);
        QTest::newRow("filter") << "filter" << QKeySequence(QKeySequence::Find);
        QTest::newRow("map") << "map" << QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Return);
    }
    void test_shortcuts()
    {
        QFETCH(QString, action);
        QFETCH(QKeySequence, shortcut);
        MainWindow w;
        QAction *a = w.action(action);
        QVERIFY(a);
        QCOMPARE(a->shortcut(), shortcut);
    }

    void test_ctrlFFocusesFilter()
    {
        MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowActive(&w));
        QTest::keyClick(&w, Qt::Key_F, Qt::ControlModifier);
        QTRY_VERIFY(QApplication::focusWidget()
                    && QApplication::focusWidget()->accessibleName()
                           == QLatin1String("Filter futures"));
    }

    void test_docksHaveObjectNamesForSaveState()
    {
        MainWindow w;
        const auto docks = w.findChildren<QDockWidget *>();
        QVERIFY(docks.size() >= 6);
        for (QDockWidget *d : docks)
            QVERIFY(!d->objectName().isEmpty());
        for (QToolBar *t : w.findChildren<QToolBar *>())
            QVERIFY(!t->objectName().isEmpty());
        const QByteArray state = w.saveState();
        QVERIFY(w.restoreState(state));
    }
};

QTEST_MAIN(tst_Accessibility)
#include "tst_accessibility.moc"
