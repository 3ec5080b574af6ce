#include "settingsdialog.h"

#include "choicepicker.h"
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

#include <stdexcept>

namespace taskbench::gui {

namespace {

/// A form row whose label is the field's buddy; the field's accessible name is the label's
/// text without mnemonic and colon.
template <class W>
W *addRow(QFormLayout *form, const QString &label, W *field)
{
    auto *l = new QLabel(label, field->parentWidget());
    l->setBuddy(field);
    field->setAccessibleName(QString(label).remove(QLatin1Char('&')).remove(QLatin1Char(':')));
    form->addRow(l, field);
    return field;
}

QLineEdit *lineEdit(QWidget *parent, const std::string &text, const QString &placeholder)
{
    auto *e = new QLineEdit(QString::fromStdString(text), parent);
    e->setPlaceholderText(placeholder);
    return e;
}

} // namespace

SettingsDialog::SettingsDialog(const ClusterOptions &options,
                               const QStringList &pluginFolders,
                               QWidget *parent)
    : SettingsDialog(
        ClusterSettings{ClusterKind::Local, options, {}, 1, false, 0, 4}, pluginFolders, parent)
{}

SettingsDialog::SettingsDialog(const ClusterSettings &settings,
                               const QStringList &pluginFolders,
                               QWidget *parent)
    : QDialog(parent)
    , m_base(settings)
{
    setWindowTitle(tr("Settings"));
    setMinimumWidth(520); // room for paths and host names in the fields
    const ClusterOptions &options = settings.options;
    auto *layout = new QVBoxLayout(this);

    auto *top = new QFormLayout;
    m_kind = new ChoicePicker(this);
    m_kind->addItem(tr("Local"));
    m_kind->addItem(tr("Slurm"));
    m_kind->setCurrentIndex(settings.kind == ClusterKind::Slurm ? 1 : 0);
    m_kind->setToolTip(tr("Local: workers on this machine. Slurm: every worker a batch job "
                          "that connects back to this machine."));
    addRow(top, tr("Cluster &type:"), m_kind);
    m_allowed = new QSpinBox(this);
    m_allowed->setRange(0, 100);
    m_allowed->setValue(options.allowedFailures);
    m_allowed->setToolTip(tr("Worker deaths a task may see before it errs"));
    addRow(top, tr("&Allowed failures:"), m_allowed);
    layout->addLayout(top);

    m_localBox = new QGroupBox(tr("Local workers"), this);
    auto *form = new QFormLayout(m_localBox);
    m_workers = new QSpinBox(m_localBox);
    m_workers->setRange(0, 1024);
    m_workers->setSpecialValueText(tr("one per core (%1)").arg(QThread::idealThreadCount()));
    m_workers->setValue(options.workers);
    addRow(form, tr("&Workers:"), m_workers);
    m_threads = new QSpinBox(m_localBox);
    m_threads->setRange(1, 256);
    m_threads->setValue(options.threadsPerWorker);
    addRow(form, tr("T&hreads per worker:"), m_threads);
    m_processes = new QCheckBox(
        tr("&Process workers (isolation; a crashing task cannot take the app down)"), m_localBox);
    m_processes->setChecked(options.processes);
    m_processes->setAccessibleName(tr("Process workers"));
    m_processes->setToolTip(tr("The default. Unchecked, tasks run on threads inside the "
                               "workbench: a little faster to start, but a task that crashes "
                               "(segfault, abort, exit) ends the whole application."));
    form->addRow(m_processes);
    layout->addWidget(m_localBox);

    auto *remote = new QGroupBox(tr("Remote workers"), this);
    auto *rform = new QFormLayout(remote);
    m_listen = lineEdit(remote, options.listen, tr("off (e.g. 0.0.0.0:0 or myhost:5555)"));
    m_listen->setToolTip(tr("HOST:PORT where workers on other machines connect "
                            "(port 0: any free port). Empty: no remote workers; for Slurm: "
                            "this host's name, any port."));
    addRow(rform, tr("Listen for remote wor&kers:"), m_listen);
    m_token = lineEdit(remote, options.tokenFile, tr("a fresh token per cluster"));
    m_token->setToolTip(tr("The shared secret workers must know (mode 0600). Empty: a fresh "
                           "one in ~/.taskbench/tokens, removed when the cluster stops."));
    auto *tokenRow = new QHBoxLayout;
    tokenRow->addWidget(m_token, 1);
    auto *browse = new QPushButton(tr("&Browse…"), remote);
    browse->setAccessibleName(tr("Choose token file"));
    tokenRow->addWidget(browse);
    auto *tokenLabel = new QLabel(tr("Token &file:"), remote);
    tokenLabel->setBuddy(m_token);
    m_token->setAccessibleName(tr("Token file"));
    rform->addRow(tokenLabel, tokenRow);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this,
                                                       tr("Token file"),
                                                       m_token->text(),
                                                       QString(),
                                                       nullptr,
                                                       QFileDialog::DontConfirmOverwrite);
        if (!f.isEmpty())
            m_token->setText(f);
    });
    m_tls = new ChoicePicker(remote);
    m_tls->addItem(tr("auto (on unless loopback)"));
    m_tls->addItem(tr("on"));
    m_tls->addItem(tr("off"));
    m_tls->setCurrentIndex(!options.tls ? 0 : *options.tls ? 1 : 2);
    addRow(rform, tr("T&LS:"), m_tls);
    layout->addWidget(remote);

    const SlurmOptions &s = settings.slurm;
    m_slurmBox = new QGroupBox(tr("Slurm jobs"), this);
    auto *sform = new QFormLayout(m_slurmBox);
    m_jobs = new QSpinBox(m_slurmBox);
    m_jobs->setRange(0, 10000);
    m_jobs->setValue(settings.jobs);
    addRow(sform, tr("&Jobs:"), m_jobs);
    m_adaptive = new QCheckBox(tr("Adapti&ve: follow the queued work"), m_slurmBox);
    m_adaptive->setAccessibleName(tr("Adaptive"));
    m_adaptive->setChecked(settings.adaptive);
    sform->addRow(m_adaptive);
    m_adaptMin = new QSpinBox(m_slurmBox);
    m_adaptMin->setRange(0, 10000);
    m_adaptMin->setValue(settings.adaptMin);
    addRow(sform, tr("Adaptive mi&nimum:"), m_adaptMin);
    m_adaptMax = new QSpinBox(m_slurmBox);
    m_adaptMax->setRange(0, 10000);
    m_adaptMax->setValue(settings.adaptMax);
    addRow(sform, tr("Adaptive ma&ximum:"), m_adaptMax);
    m_cores = new QSpinBox(m_slurmBox);
    m_cores->setRange(1, 4096);
    m_cores->setValue(s.cores);
    addRow(sform, tr("&Cores per job:"), m_cores);
    m_memory = addRow(sform, tr("&Memory per job:"), lineEdit(m_slurmBox, s.memory, tr("e.g. 4G")));
    m_partition = addRow(
        sform, tr("Partiti&on:"), lineEdit(m_slurmBox, s.partition, tr("the site's default")));
    m_walltime = addRow(sform, tr("Wallt&ime:"), lineEdit(m_slurmBox, s.walltime, tr("HH:MM:SS")));
    m_account = addRow(sform, tr("Acco&unt:"), lineEdit(m_slurmBox, s.account, tr("none")));
    m_jobExtra = new QPlainTextEdit(m_slurmBox);
    QStringList extra;
    for (const std::string &e : s.jobExtra)
        extra << QString::fromStdString(e);
    m_jobExtra->setPlainText(extra.join(QLatin1Char('\n')));
    m_jobExtra->setPlaceholderText(tr("one sbatch option per line, e.g. --gres=gpu:1"));
    m_jobExtra->setTabChangesFocus(true);
    m_jobExtra->setFixedHeight(m_jobExtra->fontMetrics().lineSpacing() * 3 + 12);
    addRow(sform, tr("Job &extra lines:"), m_jobExtra);
    auto *script = new QPushButton(tr("Show job &script…"), m_slurmBox);
    script->setAccessibleName(tr("Show job script"));
    sform->addRow(script);
    connect(script, &QPushButton::clicked, this, &SettingsDialog::showJobScript);
    const auto adaptiveChanged = [this] {
        m_jobs->setEnabled(!m_adaptive->isChecked());
        m_adaptMin->setEnabled(m_adaptive->isChecked());
        m_adaptMax->setEnabled(m_adaptive->isChecked());
    };
    connect(m_adaptive, &QCheckBox::toggled, this, adaptiveChanged);
    adaptiveChanged();
    layout->addWidget(m_slurmBox);

    auto *plugins = new QGroupBox(tr("Extra plugin folders"), this);
    auto *pl = new QHBoxLayout(plugins);
    m_folders = new QListWidget(plugins);
    m_folders->setAccessibleName(tr("Plugin folders"));
    m_folders->addItems(pluginFolders);
    m_folders->setMaximumHeight(90);
    pl->addWidget(m_folders, 1);
    auto *buttons = new QVBoxLayout;
    auto *add = new QPushButton(tr("A&dd…"), plugins);
    add->setAccessibleName(tr("Add plugin folder"));
    auto *remove = new QPushButton(tr("&Remove"), plugins);
    remove->setAccessibleName(tr("Remove plugin folder"));
    buttons->addWidget(add);
    buttons->addWidget(remove);
    buttons->addStretch(1);
    pl->addLayout(buttons);
    layout->addWidget(plugins);
    connect(add, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Plugin folder"));
        if (!dir.isEmpty())
            m_folders->addItem(dir);
    });
    connect(remove, &QPushButton::clicked, this, [this] { delete m_folders->currentItem(); });

    m_problem = new QLabel(this);
    m_problem->setAccessibleName(tr("Settings problem"));
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_problem->hide();
    layout->addWidget(m_problem);

    auto *box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    box->button(QDialogButtonBox::Ok)->setAccessibleName(tr("OK"));
    box->button(QDialogButtonBox::Cancel)->setAccessibleName(tr("Cancel"));
    connect(box, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(box, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(box);

    connect(m_kind, &QComboBox::currentIndexChanged, this, &SettingsDialog::updateKind);
    updateKind();
}

void SettingsDialog::updateKind()
{
    const bool slurm = m_kind->currentIndex() == 1;
    m_localBox->setVisible(!slurm);
    m_slurmBox->setVisible(slurm);
    m_listen->setPlaceholderText(
        slurm ? tr("%1 (reachable from the compute nodes)").arg(defaultSlurmListen())
              : tr("off (e.g. 0.0.0.0:0 or myhost:5555)"));
    adjustSize();
}

ClusterSettings SettingsDialog::settings() const
{
    ClusterSettings c = m_base;
    c.kind = m_kind->currentIndex() == 1 ? ClusterKind::Slurm : ClusterKind::Local;
    ClusterOptions &o = c.options;
    o.workers = m_workers->value();
    o.threadsPerWorker = m_threads->value();
    o.processes = m_processes->isChecked();
    o.allowedFailures = m_allowed->value();
    o.listen = m_listen->text().trimmed().toStdString();
    o.tokenFile = m_token->text().trimmed().toStdString();
    o.tls = m_tls->currentIndex() == 0 ? std::nullopt
                                       : std::optional<bool>(m_tls->currentIndex() == 1);
    c.jobs = m_jobs->value();
    c.adaptive = m_adaptive->isChecked();
    c.adaptMin = m_adaptMin->value();
    c.adaptMax = m_adaptMax->value();
    c.slurm.cores = m_cores->value();
    c.slurm.memory = m_memory->text().trimmed().toStdString();
    c.slurm.partition = m_partition->text().trimmed().toStdString();
    c.slurm.walltime = m_walltime->text().trimmed().toStdString();
    c.slurm.account = m_account->text().trimmed().toStdString();
    c.slurm.jobExtra.clear();
    for (const QString &line : m_jobExtra->toPlainText().split(QLatin1Char('\n')))
        if (!line.trimmed().isEmpty())
            c.slurm.jobExtra.push_back(line.trimmed().toStdString());
    return c;
}

QStringList SettingsDialog::pluginFolders() const
{
    QStringList out;
    for (int i = 0; i < m_folders->count(); ++i)
        out << m_folders->item(i)->text();
    return out;
}

bool SettingsDialog::clusterChanged(const ClusterSettings &before) const
{
    return settings().differsFrom(before);
}

bool SettingsDialog::clusterChanged(const ClusterOptions &before) const
{
    ClusterSettings b = m_base;
    b.options = before;
    return clusterChanged(b);
}

QString SettingsDialog::problem() const
{
    return settingsProblem(settings());
}

QString SettingsDialog::shownProblem() const
{
    return m_problem->isHidden() ? QString() : m_problem->text();
}

void SettingsDialog::accept()
{
    const QString p = problem();
    if (p.isEmpty()) {
        m_problem->hide();
        QDialog::accept();
        return;
    }
    m_problem->setText(p);
    m_problem->show();
    // Focus the field the message is about, so it can be fixed at once.
    QWidget *field = nullptr;
    if (p.contains(QLatin1String("listen address")) || p.contains(QLatin1String("HOST:PORT"))
        || p.contains(QLatin1String("port")))
        field = m_listen;
    else if (p.contains(QLatin1String("token file")))
        field = m_token;
    else if (p.startsWith(QLatin1String("Memory")))
        field = m_memory;
    else if (p.startsWith(QLatin1String("Walltime")))
        field = m_walltime;
    else if (p.contains(QLatin1String("partition")))
        field = m_partition;
    else if (p.contains(QLatin1String("account")))
        field = m_account;
    else if (p.contains(QLatin1String("extra job line")))
        field = m_jobExtra;
    else if (p.startsWith(QLatin1String("Adaptive")))
        field = m_adaptMin;
    if (field)
        field->setFocus();
}

QString SettingsDialog::jobScriptText() const
{
    const ClusterSettings c = settings();
    QString listen = QString::fromStdString(c.clientOptions().listen);
    if (listen.endsWith(QLatin1String(":0"))) { // the port is chosen when the cluster starts
        listen.chop(1);
        listen += QStringLiteral("PORT");
    }
    try {
        return QString::fromStdString(SlurmCluster::jobScript(
            c.slurmOptions("tcp://" + listen.toStdString(), c.options.tokenFile)));
    } catch (const std::invalid_argument &e) {
        return tr("The job script cannot be made: %1").arg(QString::fromUtf8(e.what()));
    }
}

void SettingsDialog::showJobScript()
{
    auto *dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Slurm job script"));
    auto *layout = new QVBoxLayout(dialog);
    auto *text = new QPlainTextEdit(jobScriptText(), dialog);
    text->setReadOnly(true);
    text->setAccessibleName(tr("Job script"));
    text->setLineWrapMode(QPlainTextEdit::NoWrap);
    text->setFont(QFont(QStringLiteral("monospace")));
    layout->addWidget(text);
    auto *box = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    box->button(QDialogButtonBox::Close)->setAccessibleName(tr("Close"));
    connect(box, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(box);
    dialog->resize(720, 320);
    dialog->open();
}

} // namespace taskbench::gui
