#include "demo.h"

#include "argumentfield.h"
#include "enginebridge.h"
#include "futuresmodel.h"
#include "futurestable.h"
#include "mainwindow.h"
#include "mapform.h"
#include "submitform.h"

#include "taskbench/logging.h"

#include <QCheckBox>
#include <QDockWidget>
#include <QLineEdit>
#include <QSpinBox>
#include <QTableView>

#include <iterator>

namespace taskbench::gui {

Demo::Demo(MainWindow *window, const QString &plugin, QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_plugin(plugin)
{
    m_timer.setInterval(50);
    connect(&m_timer, &QTimer::timeout, this, &Demo::tick);
    connect(window->bridge(),
            &EngineBridge::submitted,
            this,
            [this](quint64, const std::vector<std::uint64_t> &ids) {
                m_last = ids;
                if (m_waitingFor > 0)
                    --m_waitingFor;
            });
    connect(window->bridge(),
            &EngineBridge::submitFailed,
            this,
            [this](quint64, const QString &message) {
                log::get("gui")->warn("demo step failed: {}", message.toStdString());
                if (m_waitingFor > 0)
                    --m_waitingFor;
            });

    const bool bench = plugin == QLatin1String("bench");
    const QString flaky = bench ? fn("flaky_inc_det") : fn("flaky_inc");
    m_steps = {
        {tr("submit inc(1)"), [this] { submitThroughForm(fn("inc"), {QStringLiteral("1")}); }},
        {tr("inc(1) again is the same future; inc(2)"),
         [this] {
             m_incs = m_last;
             submitThroughForm(fn("inc"), {QStringLiteral("1")});
             submitThroughForm(fn("inc"), {QStringLiteral("2")});
         }},
        {tr("add(x, y) of the two futures"),
         [this] {
             m_incs.insert(m_incs.end(), m_last.begin(), m_last.end());
             SubmitForm *form = m_window->submitForm();
             form->setCurrentFunction(fn("add"));
             EngineBridge *b = m_window->bridge();
             const auto &f = form->fields();
             if (f.size() >= 2 && m_incs.size() >= 2) {
                 f[0]->setMode(ArgumentField::OneFuture);
                 f[0]->setFutureKeys(QStringList{b->keyOf(m_incs.front())});
                 f[1]->setMode(ArgumentField::OneFuture);
                 f[1]->setFutureKeys(QStringList{b->keyOf(m_incs.back())});
                 ++m_waitingFor;
                 if (!form->trySubmit())
                     --m_waitingFor;
             }
         }},
        {tr("map inc over 0..4, then sum of the list of futures"),
         [this] { mapThroughForm(fn("inc"), QStringLiteral("0..4"), 0, true); }},
        {tr("sum(futures)"),
         [this] {
             m_window->futuresTable()->selectIds(m_last);
             ++m_waitingFor;
             MapForm *map = m_window->mapForm();
             map->setReduceFunction(fn("sum"));
             if (!map->tryReduce())
                 --m_waitingFor;
         }},
        {tr("map flaky_inc over 0..9 without retries"),
         [this, flaky] { mapThroughForm(flaky, QStringLiteral("0..9"), 0, true); }},
        {tr("retry one failed future"),
         [this] {
             m_flaky = m_last;
             FuturesModel *m = m_window->futuresModel();
             for (std::uint64_t id : m_flaky) {
                 const FutureRow *r = m->row(id);
                 if (r && r->status == FutureStatus::Error) {
                     m_window->bridge()->retry({id});
                     break;
                 }
             }
         }},
        {tr("map flaky_inc over 0..9 again, with retries = 5"),
         [this, flaky] { mapThroughForm(flaky, QStringLiteral("0..9"), 5, false); }},
        {tr("done"),
         [this] {
             // Leave the form on a friendly function and the errors in view.
             m_window->submitForm()->setCurrentFunction(fn("inc"));
             m_window->mapForm()->setCurrentFunction(fn("inc"));
             m_window->futuresTable()->view()->clearSelection();
             if (QDockWidget *d = m_window->dock(QStringLiteral("submitDock")))
                 d->raise();
         }},
    };
    // The tutorial plugin has no fail, log_and_progress or sleep_ms: these steps are the
    // bench plugin's, before the last one.
    if (bench) {
        std::vector<Step> benchSteps = {
            {tr("a failing task and a dependent (root cause and cascade)"),
             [this] {
                 SubmitForm *form = m_window->submitForm();
                 form->setCurrentFunction(fn("fail"));
                 if (!form->fields().empty())
                     form->fields()[0]->setText(QStringLiteral("the input file is missing"));
                 ++m_waitingFor;
                 if (!form->trySubmit())
                     --m_waitingFor;
             }},
            {tr("a dependent of the failure"),
             [this] {
                 if (m_last.empty())
                     return;
                 SubmitForm *form = m_window->submitForm();
                 form->setCurrentFunction(fn("inc"));
                 if (!form->fields().empty()) {
                     form->fields()[0]->setMode(ArgumentField::OneFuture);
                     form->fields()[0]->setFutureKeys(
                         QStringList{m_window->bridge()->keyOf(m_last.front())});
                 }
                 ++m_waitingFor;
                 if (!form->trySubmit()) {
                     --m_waitingFor;
                     for (ArgumentField *f : form->fields())
                         if (f->hasError())
                             log::get("gui")->warn("demo: {}", f->errorText().toStdString());
                 }
             }},
            {tr("a task that logs and reports progress"),
             [this] { submitThroughForm(fn("log_and_progress"), {QStringLiteral("5")}); }},
            {tr("map sleep_ms over a few durations: the task stream shows them side by side"),
             [this] {
                 mapThroughForm(fn("sleep_ms"),
                                QStringLiteral("180, 120, 260, 90, 150, 210, 130, 170"),
                                0,
                                false);
             }},
        };
        m_steps.insert(m_steps.end() - 1,
                       std::make_move_iterator(benchSteps.begin()),
                       std::make_move_iterator(benchSteps.end()));
    }
}

QString Demo::fn(const char *name) const
{
    return m_plugin + QLatin1Char('.') + QString::fromLatin1(name);
}

void Demo::start()
{
    m_step = 0;
    m_timer.start();
    tick();
}

bool Demo::settled() const
{
    FuturesModel *m = m_window->futuresModel();
    if (m_waitingFor != 0 || m_window->bridge()->pendingSubmissions() != 0
        || m->count(FutureStatus::Pending) != 0 || m->count(FutureStatus::Processing) != 0)
        return false;
    // The last submission's rows must have arrived (events come a frame later).
    for (std::uint64_t id : m_last) {
        const FutureRow *r = m->row(id);
        if (!r || !isTerminal(r->status))
            return false;
    }
    return true;
}

void Demo::tick()
{
    if (m_step < 0)
        return;
    // Steps run one at a time, each once the previous one's work has settled; the demo is
    // finished when the last step's work has settled too.
    if (m_step > 0 && !settled())
        return;
    if (isFinished()) {
        m_timer.stop();
        emit finished();
        return;
    }
    if (!m_window->bridge()->isRunning() || m_window->bridge()->catalog()->functions().empty()) {
        log::get("gui")->error("demo: no cluster or no functions loaded");
    } else if (!m_window->bridge()->catalog()->function(fn("inc"))) {
        log::get("gui")->error("demo: plugin '{}' is not loaded", m_plugin.toStdString());
    } else {
        const Step &s = m_steps[std::size_t(m_step)];
        log::get("gui")->info("demo: {}", s.description.toStdString());
        emit stepStarted(s.description);
        ++m_step;
        s.run();
        return;
    }
    m_step = int(m_steps.size());
    m_timer.stop();
    emit finished();
}

void Demo::submitThroughForm(const QString &function, const QStringList &values)
{
    SubmitForm *form = m_window->submitForm();
    form->setCurrentFunction(function);
    const auto &fields = form->fields();
    for (int i = 0; i < values.size() && i < int(fields.size()); ++i) {
        fields[std::size_t(i)]->setMode(ArgumentField::Literal);
        fields[std::size_t(i)]->setText(values[i]);
    }
    ++m_waitingFor;
    if (!form->trySubmit())
        --m_waitingFor;
}

void Demo::mapThroughForm(const QString &function, const QString &inputs, int retries, bool pure)
{
    MapForm *map = m_window->mapForm();
    if (QDockWidget *d = m_window->dock(QStringLiteral("mapDock")))
        d->raise();
    map->setSource(MapForm::Values);
    map->setCurrentFunction(function);
    FunctionPtr f = m_window->bridge()->catalog()->function(function);
    if (!f || f->params.empty())
        return;
    if (QLineEdit *e = map->inputFor(QString::fromStdString(f->params.front().name)))
        e->setText(inputs);
    map->retriesSpin()->setValue(retries);
    map->pureCheck()->setChecked(pure);
    ++m_waitingFor;
    if (!map->tryMap())
        --m_waitingFor;
}

} // namespace taskbench::gui
