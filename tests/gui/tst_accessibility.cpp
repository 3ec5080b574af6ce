// Accessibility of the main window: every interactive widget has an accessible name (or a
// label buddy), the views expose column headers, the key actions have their shortcuts.
#include "accessibletext.h"
#include "choicepicker.h"
#include "comparewindow.h"
#include "detailsdialog.h"
#include "enginebridge.h"
#include "eventbuilders.h"
#include "exportformatpath.h"
#include "futuresmodel.h"
#include "guifixture.h"
#include "historypanel.h"
#include "inspect/workerspanel.h"
#include "internalbuttonnames.h"
#include "mainwindow.h"
#include "pluginspanel.h"
#include "plurals.h"
#include "progressmodel.h"
#include "submitform.h"
#include "workerlabel.h"

#include <QAbstractButton>
#include <QAbstractItemView>
#include <QAbstractSpinBox>
#include <QAccessible>
#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QTabBar>
#include <QTest>
#include <QToolBar>
#include <QToolButton>
#include <QTreeWidget>

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

template <typename T = QWidget>
T *named(QWidget *root, const QString &name)
{
    for (T *c : root->findChildren<T *>())
        if (c->accessibleName() == name)
            return c;
    return nullptr;
}

/// A label's text as assistive tools get it: its description must carry the text.
void verifyLabelReadable(QWidget *root, const QString &name)
{
    QLabel *label = named<QLabel>(root, name);
    QVERIFY2(label, qPrintable(name));
    QVERIFY2(!label->text().isEmpty(), qPrintable(name));
    if (label->textFormat() == Qt::PlainText || !Qt::mightBeRichText(label->text()))
        QCOMPARE(label->accessibleDescription(), label->text());
    QVERIFY2(!label->accessibleDescription().trimmed().isEmpty(), qPrintable(name));
    QVERIFY2(!label->accessibleDescription().contains(QLatin1Char('<')), qPrintable(name));
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
        taskbench::testsupport::useBundledPlugins(*w.bridge()->catalog());
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
        taskbench::testsupport::useBundledPlugins(*w.bridge()->catalog());
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

    void test_informationLabelsExposeTheirText()
    {
        MainWindow w;
        taskbench::testsupport::useBundledPlugins(*w.bridge()->catalog());
        w.bridge()->catalog()->scan();
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto *tree = named<QTreeWidget>(&w, QStringLiteral("Plugins"));
        QVERIFY(tree && tree->topLevelItemCount() > 0);
        tree->setCurrentItem(tree->topLevelItem(0));
        QCOMPARE(tree->headerItem()->text(0), QStringLiteral("Plugins and functions"));
        for (const char *name :
             {"Plugin details", "Task graph summary", "Session tasks summary", "Workers summary"})
            verifyLabelReadable(&w, QString::fromLatin1(name));
        QVERIFY(named<QLabel>(&w, QStringLiteral("Plugin details"))
                    ->accessibleDescription()
                    .contains(QLatin1String("bench")));

        // The Details dialog: its header and the whole Overview table, as "Name: value" lines.
        w.futuresModel()->applyEvents(
            {::testsupport::taskAdded(1, "inc-a", "bench.inc"),
             ::testsupport::transition(1, TaskState::Released, TaskState::Waiting),
             ::testsupport::transition(1, TaskState::Waiting, TaskState::Queued),
             ::testsupport::transition(1, TaskState::Queued, TaskState::Processing, 2, 1),
             ::testsupport::executionFinished(1, 2, 0, 1000, 1500),
             ::testsupport::transition(1, TaskState::Processing, TaskState::Memory, 2, 1)});
        DetailsDialog details(w.bridge(), w.futuresModel(), 1);
        details.show();
        verifyLabelReadable(&details, QStringLiteral("Task"));
        QCOMPARE(named<QLabel>(&details, QStringLiteral("Task"))->accessibleDescription(),
                 QStringLiteral("inc-a"));
        verifyLabelReadable(&details, QStringLiteral("Overview"));
        const QString overview
            = named<QLabel>(&details, QStringLiteral("Overview"))->accessibleDescription();
        for (const char *line :
             {"Status: ", "Function: bench.inc", "Worker: worker-2", "Duration: ", "CPU time: "})
            QVERIFY2(overview.contains(QLatin1String(line)), qPrintable(overview));

        // The Compare window: its summary, and a dialog (not a "filler") for AT-SPI.
        history::SessionComparison c;
        c.a.id = 1;
        c.b.id = 2;
        CompareWindow compare(c);
        compare.show();
        verifyLabelReadable(&compare, QStringLiteral("Comparison summary"));
        QAccessibleInterface *iface = QAccessible::queryAccessibleInterface(&compare);
        QVERIFY(iface);
        QCOMPARE(iface->role(), QAccessible::Dialog);
    }

    void test_countsUsePluralForms()
    {
        EnglishPlurals plurals;
        QCoreApplication::installTranslator(&plurals);
        MainWindow w;
        w.futuresModel()->applyEvents(
            {::testsupport::taskAdded(1, "inc-a", "bench.inc"),
             ::testsupport::transition(1, TaskState::Released, TaskState::Waiting),
             ::testsupport::transition(1, TaskState::Waiting, TaskState::Queued),
             ::testsupport::transition(1, TaskState::Queued, TaskState::Processing, 0, 1),
             ::testsupport::transition(1, TaskState::Processing, TaskState::Erred, 0, 1)});
        QTRY_COMPARE(named<QLabel>(&w, QStringLiteral("Errors"))->text(),
                     QStringLiteral("1 error"));
        QCOMPARE(named<QLabel>(&w, QStringLiteral("Errors"))->accessibleDescription(),
                 QStringLiteral("1 error"));
        QCoreApplication::removeTranslator(&plurals);
    }

    void test_internalButtonsAreNamed()
    {
        MainWindow w;
        w.resize(500, 400); // the graph toolbar overflows: its "»" button shows
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        int extensions = 0;
        int clears = 0;
        for (QToolButton *b : w.findChildren<QToolButton *>()) {
            if (b->objectName() == QLatin1String("qt_toolbar_ext_button")) {
                ++extensions;
                QVERIFY2(b->accessibleName().startsWith(QLatin1String("More")),
                         qPrintable(b->accessibleName()));
            }
            if (!qobject_cast<QLineEdit *>(b->parentWidget()))
                continue;
            QVERIFY2(!b->accessibleName().isEmpty(),
                     qPrintable(b->parentWidget()->accessibleName() + QLatin1Char(' ')
                                + (b->defaultAction() ? b->defaultAction()->objectName()
                                                      : QStringLiteral("no action"))));
            clears += b->accessibleName() == QLatin1String("Clear");
        }
        QVERIFY(extensions > 0);
        QVERIFY(clears > 0);
        auto *filter = named<QLineEdit>(&w, QStringLiteral("Filter futures"));
        QVERIFY(filter);
        QStringList icons;
        for (QToolButton *b : filter->findChildren<QToolButton *>())
            icons << b->accessibleName();
        QVERIFY2(icons.contains(QStringLiteral("Filter futures")), qPrintable(icons.join(',')));
        QVERIFY2(icons.contains(QStringLiteral("Clear")), qPrintable(icons.join(',')));
    }

    void test_exportFormatFollowsTheFileName_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("filter");
        QTest::addColumn<int>("format");
        using F = history::ExportFormat;
        QTest::newRow("csv over perfetto") << "/x/s1.csv" << int(F::Perfetto) << int(F::Csv);
        QTest::newRow("json over csv") << "/x/s1.JSON" << int(F::Csv) << int(F::Json);
        QTest::newRow("perfetto over json")
            << "/x/s1.perfetto.json" << int(F::Json) << int(F::Perfetto);
        QTest::newRow("trace") << "/x/s1.trace.json" << int(F::Csv) << int(F::Perfetto);
        QTest::newRow("no extension: filter") << "/x/s1" << int(F::Csv) << int(F::Csv);
    }
    void test_exportFormatFollowsTheFileName()
    {
        QFETCH(QString, path);
        QFETCH(int, filter);
        QFETCH(int, format);
        QCOMPARE(int(exportFormatForPath(path, history::ExportFormat(filter))), format);
    }

    void test_progressIsASingleColumnList()
    {
        FuturesModel futures;
        ProgressModel progress(&futures);
        futures.applyEvents({::testsupport::taskAdded(1, "inc-a", "bench.inc")});
        QCOMPARE(progress.rowCount(), 1);
        QCOMPARE(progress.columnCount(), 1);
        QCOMPARE(progress.headerData(0, Qt::Horizontal, Qt::DisplayRole).toString(),
                 QStringLiteral("Task group progress"));
        const QString spoken = progress.index(0, 0).data(Qt::AccessibleTextRole).toString();
        QVERIFY2(spoken.contains(QLatin1String("0 of 1 finished")), qPrintable(spoken));
    }

    void test_workersHaveOneName()
    {
        QCOMPARE(workerLabel(0), QStringLiteral("worker-0"));
        QCOMPARE(workerDisplayName(0, "thread-worker-0"), QStringLiteral("worker-0 (thread)"));
        QCOMPARE(workerDisplayName(2, "tcp-worker-2 (lab@host, pid 9)"),
                 QStringLiteral("worker-2 (tcp, lab@host, pid 9)"));
        FuturesModel futures;
        futures.applyEvents(
            {::testsupport::taskAdded(1, "inc-a", "bench.inc"),
             ::testsupport::transition(1, TaskState::Queued, TaskState::Processing, 0, 1)});
        QVERIFY(futures.index(0, FuturesModel::Worker)
                    .data()
                    .toString()
                    .startsWith(workerDisplayName(0, "thread-worker-0").left(8)));
    }

    void test_actionsAreAnnounced()
    {
        MainWindow w;
        auto lastAction = [&w] {
            return named<QLabel>(&w, QStringLiteral("Last action"))->accessibleDescription();
        };
        emit w.workersPanel()->restartFinished(3, true);
        QCOMPARE(lastAction(), QStringLiteral("Restarting worker-3"));
        auto *history = w.findChild<HistoryPanel *>();
        QVERIFY(history);
        emit history->message(QStringLiteral("Exported session 1 to /x/s1.csv"));
        QCOMPARE(lastAction(), QStringLiteral("Exported session 1 to /x/s1.csv"));
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
