// The submit form generated from a FunctionInfo: one editor per parameter type, inline
// errors for invalid input without submitting, future references, options. And the map
// form's live task count and sweep modes.
#include "argumentfield.h"
#include "mapform.h"
#include "submitform.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>

using namespace taskbench;
using namespace taskbench::gui;

Q_DECLARE_METATYPE(std::vector<taskbench::Value>)
Q_DECLARE_METATYPE(taskbench::SubmitOptions)
Q_DECLARE_METATYPE(std::vector<std::vector<taskbench::Value>>)

namespace {

FunctionPtr makeFunction(const std::string &name, std::vector<sdk::ParamSpec> params)
{
    auto f = std::make_shared<FunctionInfo>();
    f->qualifiedName = "test." + name;
    f->plugin = "test";
    f->name = name;
    f->doc = "A test function.";
    f->params = std::move(params);
    f->resultType = "int";
    return f;
}

sdk::ParamSpec param(const std::string &name, const std::string &type)
{
    sdk::ParamSpec p;
    p.name = name;
    p.type = type;
    return p;
}

} // namespace

class tst_SubmitForm : public QObject
{
    Q_OBJECT
private:
    std::vector<FunctionPtr> m_functions;

private slots:
    void initTestCase()
    {
        sdk::ParamSpec withDefault = param("factor", "float");
        withDefault.hasDefault = true;
        withDefault.defaultValue = Value(2.5);
        m_functions = {
            makeFunction("everything",
                         {param("n", "int"),
                          withDefault,
                          param("flag", "bool"),
                          param("name", "str"),
                          param("values", "list[int]"),
                          param("options", "map[str, int]"),
                          param("anything", "any")}),
            makeFunction("inc", {param("x", "int")}),
            makeFunction("add", {param("x", "int"), param("y", "int")}),
            makeFunction("sum", {param("values", "list[int]")}),
        };
    }

    void test_fieldsGeneratedFromParameters()
    {
        SubmitForm form;
        form.setFunctions(m_functions);
        form.setCurrentFunction(QStringLiteral("test.everything"));
        QCOMPARE(form.currentFunction(), QStringLiteral("test.everything"));
        QCOMPARE(form.fields().size(), std::size_t(7));
        QVERIFY(qobject_cast<QSpinBox *>(form.field(QStringLiteral("n"))->focusWidget()));
        auto *factor
            = qobject_cast<QDoubleSpinBox *>(form.field(QStringLiteral("factor"))->focusWidget());
        QVERIFY(factor);
        QCOMPARE(factor->value(), 2.5); // the default
        QVERIFY(qobject_cast<QCheckBox *>(form.field(QStringLiteral("flag"))->focusWidget()));
        QVERIFY(qobject_cast<QLineEdit *>(form.field(QStringLiteral("name"))->focusWidget()));
        QVERIFY(
            qobject_cast<QPlainTextEdit *>(form.field(QStringLiteral("values"))->focusWidget()));
        QVERIFY(
            qobject_cast<QPlainTextEdit *>(form.field(QStringLiteral("options"))->focusWidget()));
        QVERIFY(qobject_cast<QLineEdit *>(form.field(QStringLiteral("anything"))->focusWidget()));
        for (ArgumentField *f : form.fields())
            QVERIFY(!f->focusWidget()->accessibleName().isEmpty());
        // Switching function regenerates the fields.
        form.setCurrentFunction(QStringLiteral("test.add"));
        QCOMPARE(form.fields().size(), std::size_t(2));
    }

    void test_validSubmitEmitsArguments()
    {
        SubmitForm form;
        form.setFunctions(m_functions);
        form.setCurrentFunction(QStringLiteral("test.everything"));
        form.field(QStringLiteral("n"))->setText(QStringLiteral("41"));
        form.field(QStringLiteral("flag"))->setText(QStringLiteral("true"));
        form.field(QStringLiteral("name"))->setText(QStringLiteral("hello"));
        form.field(QStringLiteral("values"))->setText(QStringLiteral("[1, 2, 3]"));
        form.field(QStringLiteral("options"))->setText(QStringLiteral("{\"a\": 1}"));
        form.field(QStringLiteral("anything"))->setText(QStringLiteral("bare words"));
        form.retriesSpin()->setValue(3);
        form.prioritySpin()->setValue(7);
        form.pureCheck()->setChecked(false);
        form.keyEdit()->setText(QStringLiteral("my-key"));
        std::vector<Value> args;
        SubmitOptions opts;
        QString fn;
        connect(&form,
                &SubmitForm::submitRequested,
                this,
                [&](const QString &f, const std::vector<Value> &a, const SubmitOptions &o) {
                    fn = f;
                    args = a;
                    opts = o;
                });
        QTest::mouseClick(form.submitButton(), Qt::LeftButton);
        QCOMPARE(fn, QStringLiteral("test.everything"));
        QCOMPARE(args.size(), std::size_t(7));
        QCOMPARE(args[0], Value(41));
        QCOMPARE(args[1], Value(2.5));
        QCOMPARE(args[2], Value(true));
        QCOMPARE(args[3], Value("hello"));
        QCOMPARE(args[4], Value::list({1, 2, 3}));
        QVERIFY(args[5].isMap());
        QCOMPARE(args[6], Value("bare words"));
        QCOMPARE(opts.retries, 3);
        QCOMPARE(opts.priority, 7);
        QCOMPARE(opts.pure, false);
        QCOMPARE(opts.key, std::string("my-key"));
        QVERIFY(form.formError().isEmpty());
    }

    void test_invalidInputShowsInlineErrorAndDoesNotSubmit_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("text");
        QTest::newRow("broken JSON list") << "values"
                                          << "[1, 2";
        QTest::newRow("list of wrong items") << "values"
                                             << "[\"a\", \"b\"]";
        QTest::newRow("object instead of list") << "values"
                                                << "{\"a\": 1}";
        QTest::newRow("empty list field") << "values"
                                          << "";
        QTest::newRow("list instead of map") << "options"
                                             << "[1]";
    }
    void test_invalidInputShowsInlineErrorAndDoesNotSubmit()
    {
        QFETCH(QString, field);
        QFETCH(QString, text);
        SubmitForm form;
        form.setFunctions(m_functions);
        form.setCurrentFunction(QStringLiteral("test.everything"));
        form.field(QStringLiteral("values"))->setText(QStringLiteral("[1]"));
        form.field(QStringLiteral("options"))->setText(QStringLiteral("{}"));
        form.field(field)->setText(text);
        QSignalSpy spy(&form, &SubmitForm::submitRequested);
        QVERIFY(!form.trySubmit());
        QCOMPARE(spy.count(), 0);
        ArgumentField *f = form.field(field);
        QVERIFY(f->hasError());
        QVERIFY(!f->errorText().isEmpty());
        // The message is a visible label next to the field.
        bool labelShown = false;
        for (QLabel *l : f->findChildren<QLabel *>())
            labelShown = labelShown || (!l->isHidden() && l->text() == f->errorText());
        QVERIFY(labelShown);
        // Editing the field clears the message.
        f->setText(field == QLatin1String("options") ? QStringLiteral("{}")
                                                     : QStringLiteral("[4]"));
        QVERIFY(!f->hasError());
        QVERIFY(form.trySubmit());
        QCOMPARE(spy.count(), 1);
    }

    void test_futureReferences()
    {
        SubmitForm form;
        form.setFunctions(m_functions);
        QStringList known{QStringLiteral("inc-1"), QStringLiteral("inc-2")};
        form.setKeyValidator([&](const QString &k) { return known.contains(k); });
        form.setSelectionProvider([&] { return known; });
        form.setCurrentFunction(QStringLiteral("test.add"));
        ArgumentField *x = form.field(QStringLiteral("x"));
        ArgumentField *y = form.field(QStringLiteral("y"));
        x->setMode(ArgumentField::OneFuture);
        x->setFutureKeys(QStringList{QStringLiteral("inc-1")});
        y->setMode(ArgumentField::OneFuture);
        y->setFutureKeys(QStringList{QStringLiteral("nope")});
        QSignalSpy spy(&form, &SubmitForm::submitRequested);
        QVERIFY(!form.trySubmit());
        QVERIFY(y->errorText().contains(QLatin1String("nope")));
        QCOMPARE(spy.count(), 0);
        y->setFutureKeys(QStringList{QStringLiteral("inc-2")});
        QVERIFY(form.trySubmit());
        QCOMPARE(spy.count(), 1);
        const auto args = spy.at(0).at(1).value<std::vector<Value>>();
        QCOMPARE(args[0], Value::ref("inc-1"));
        QCOMPARE(args[1], Value::ref("inc-2"));

        // Several futures as a list (sum of futures).
        form.setCurrentFunction(QStringLiteral("test.sum"));
        ArgumentField *values = form.field(QStringLiteral("values"));
        values->setMode(ArgumentField::FutureList);
        values->setFutureKeys(known);
        QVERIFY(form.trySubmit());
        const auto sumArgs = spy.at(1).at(1).value<std::vector<Value>>();
        QCOMPARE(sumArgs[0], Value::list({Value::ref("inc-1"), Value::ref("inc-2")}));
    }

    void test_noFunctionDisablesSubmit()
    {
        SubmitForm form;
        form.setFunctions({});
        QVERIFY(!form.submitButton()->isEnabled());
        QVERIFY(!form.trySubmit());
    }

    void test_mapPreviewZipAndGrid()
    {
        MapForm form;
        form.setFunctions(m_functions);
        form.setCurrentFunction(QStringLiteral("test.add"));
        form.inputFor(QStringLiteral("x"))->setText(QStringLiteral("0..9"));
        form.inputFor(QStringLiteral("y"))->setText(QStringLiteral("0..9"));
        form.setMode(SweepMode::Zip);
        QCOMPARE(form.previewCount(), std::size_t(10));
        form.setMode(SweepMode::Grid);
        QCOMPARE(form.previewCount(), std::size_t(100));
        QVERIFY(form.previewText().contains(QLatin1String("100")));
        if (qEnvironmentVariableIsSet("TASKBENCH_TEST_SHOTS")) {
            form.resize(320, 560);
            QVERIFY(form.grab().save(qEnvironmentVariable("TASKBENCH_TEST_SHOTS")
                                     + QStringLiteral("/mapform.png")));
        }
        form.inputFor(QStringLiteral("y"))->setText(QStringLiteral("5"));
        form.setMode(SweepMode::Zip);
        QCOMPARE(form.previewCount(), std::size_t(10)); // one value is broadcast
        form.inputFor(QStringLiteral("y"))->setText(QStringLiteral("[1, 2"));
        QCOMPARE(form.previewCount(), std::size_t(0));
        QVERIFY(!form.previewError().isEmpty());
        QVERIFY(!form.mapButton()->isEnabled());
    }

    void test_mapEmitsArgumentLists()
    {
        MapForm form;
        form.setFunctions(m_functions);
        form.setCurrentFunction(QStringLiteral("test.add"));
        form.inputFor(QStringLiteral("x"))->setText(QStringLiteral("1, 2"));
        form.inputFor(QStringLiteral("y"))->setText(QStringLiteral("10, 20, 30"));
        form.setMode(SweepMode::Grid);
        form.retriesSpin()->setValue(5);
        QSignalSpy spy(&form, &MapForm::mapRequested);
        QVERIFY(form.tryMap());
        QCOMPARE(spy.count(), 1);
        const auto lists = spy.at(0).at(1).value<std::vector<std::vector<Value>>>();
        QCOMPARE(lists.size(), std::size_t(6));
        QCOMPARE(lists[1][0], Value(1));
        QCOMPARE(lists[1][1], Value(20));
        QCOMPARE(spy.at(0).at(2).value<SubmitOptions>().retries, 5);
        // Wrong value types are refused before anything is submitted.
        form.inputFor(QStringLiteral("x"))->setText(QStringLiteral("a, b"));
        QVERIFY(!form.tryMap());
        QCOMPARE(spy.count(), 1);
    }

    void test_mapFromFiles()
    {
        MapForm form;
        form.setFunctions(m_functions);
        form.setCurrentFunction(QStringLiteral("test.add"));
        form.setFileContent(QStringLiteral("y,x\n1,2\n3,4\n5,6\n"), true);
        QCOMPARE(form.source(), MapForm::File);
        QCOMPARE(form.previewCount(), std::size_t(3));
        auto args = form.buildArguments();
        QVERIFY(args);
        QCOMPARE((*args)[0][0], Value(2)); // columns matched by header name
        QCOMPARE((*args)[0][1], Value(1));
        form.setFileContent(QStringLiteral("[1, 2]\n{\"x\": 3, \"y\": 4}\n"), false);
        args = form.buildArguments();
        QVERIFY(args);
        QCOMPARE(args->size(), std::size_t(2));
        QCOMPARE((*args)[1][1], Value(4));
        form.setCurrentFunction(QStringLiteral("test.inc"));
        form.setFileContent(QStringLiteral("1\n2\n3\n4\n"), false);
        QCOMPARE(form.previewCount(), std::size_t(4));
    }

    void test_mapOverSelectedFutures()
    {
        MapForm form;
        form.setFunctions(m_functions);
        QStringList selected{
            QStringLiteral("inc-1"), QStringLiteral("inc-2"), QStringLiteral("inc-3")};
        form.setSelectionProvider([&] { return selected; });
        form.setCurrentFunction(QStringLiteral("test.inc"));
        form.setSource(MapForm::SelectedFutures);
        QCOMPARE(form.previewCount(), std::size_t(3));
        auto args = form.buildArguments();
        QVERIFY(args);
        QCOMPARE((*args)[2][0], Value::ref("inc-3"));
        // Reduce: sum of the selected futures as one list.
        QSignalSpy spy(&form, &MapForm::reduceRequested);
        QVERIFY(form.tryReduce());
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("test.sum"));
        const auto reduceArgs = spy.at(0).at(1).value<std::vector<Value>>();
        QCOMPARE(reduceArgs.size(), std::size_t(1));
        QCOMPARE(reduceArgs[0].toList().size(), std::size_t(3));
    }
};

QTEST_MAIN(tst_SubmitForm)
#include "tst_submitform.moc"
