// Cluster settings in the GUI: QSettings and the settings dialog round-trip to ClusterOptions
// and SlurmOptions (listen, token file, TLS, Slurm job fields), bad input is refused with a
// message naming the problem, the job script follows the fields, the Slurm jobs table shows
// synthetic jobs, and a real local cluster started by the engine bridge with a listen
// address is joined by a real taskbench-worker that the workers panel shows as remote with
// its label. No Slurm needed (the Slurm end-to-end test is in tests/slurm).
#include "clustersettings.h"
#include "enginebridge.h"
#include "futuresmodel.h"
#include "settingsdialog.h"

#include "inspect/workersmodel.h"
#include "inspect/workerspanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QSettings>
#include <QSpinBox>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace taskbench;
using namespace taskbench::gui;
using taskbench::inspect::SlurmJobsModel;
using taskbench::inspect::WorkersModel;
using taskbench::inspect::WorkersPanel;

namespace {

template <class W>
W *field(QWidget *root, const QString &accessibleName)
{
    for (W *w : root->findChildren<W *>())
        if (w->accessibleName() == accessibleName)
            return w;
    return nullptr;
}

ClusterSettings slurmSample()
{
    ClusterSettings c;
    c.kind = ClusterKind::Slurm;
    c.options.allowedFailures = 5;
    c.options.listen = "login1:5555";
    c.options.tokenFile = "/tmp/some.token";
    c.options.tls = true;
    c.jobs = 7;
    c.adaptive = true;
    c.adaptMin = 2;
    c.adaptMax = 9;
    c.slurm.cores = 4;
    c.slurm.memory = "8G";
    c.slurm.partition = "gpu";
    c.slurm.walltime = "2-00:30:00";
    c.slurm.account = "proj42";
    c.slurm.jobExtra = {"--gres=gpu:1", "--constraint=avx2"};
    return c;
}

} // namespace

class tst_ClusterSettings : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_clustersettings"));
    }

    void settingsRoundTrip()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const ClusterSettings in = slurmSample();
        {
            QSettings s(dir.filePath(QStringLiteral("a.ini")), QSettings::IniFormat);
            in.save(s);
        }
        QSettings s(dir.filePath(QStringLiteral("a.ini")), QSettings::IniFormat);
        const ClusterSettings out = ClusterSettings::load(s);
        QVERIFY(out.kind == ClusterKind::Slurm);
        QVERIFY(!out.differsFrom(in));
        QCOMPARE(out.options.listen, std::string("login1:5555"));
        QCOMPARE(out.options.tokenFile, std::string("/tmp/some.token"));
        QVERIFY(out.options.tls && *out.options.tls);
        QCOMPARE(out.options.allowedFailures, 5);
        QCOMPARE(out.jobs, 7);
        QVERIFY(out.adaptive);
        QCOMPARE(out.adaptMin, 2);
        QCOMPARE(out.adaptMax, 9);
        QCOMPARE(out.slurm.cores, 4);
        QCOMPARE(out.slurm.memory, std::string("8G"));
        QCOMPARE(out.slurm.partition, std::string("gpu"));
        QCOMPARE(out.slurm.walltime, std::string("2-00:30:00"));
        QCOMPARE(out.slurm.account, std::string("proj42"));
        QCOMPARE(out.slurm.jobExtra,
                 (std::vector<std::string>{"--gres=gpu:1", "--constraint=avx2"}));

        // A Slurm cluster's client: listens, starts no local workers.
        const ClusterOptions client = out.clientOptions();
        QVERIFY(!client.localWorkers);
        QCOMPARE(client.listen, std::string("login1:5555"));
        ClusterSettings noListen = out;
        noListen.options.listen.clear();
        const std::string dflt = noListen.clientOptions().listen;
        QVERIFY2(dflt.size() > 2 && dflt.ends_with(":0"), dflt.c_str());
        QCOMPARE(QString::fromStdString(dflt), defaultSlurmListen());
        const SlurmOptions job = out.slurmOptions("tcp://login1:5555", "/tmp/t");
        QCOMPARE(job.schedulerAddress, std::string("tcp://login1:5555"));
        QCOMPARE(job.tokenFile, std::string("/tmp/t"));
        QCOMPARE(job.cores, 4);

        // Local: TLS auto and no listening by default; a local cluster keeps its workers.
        ClusterSettings local;
        QSettings empty(dir.filePath(QStringLiteral("b.ini")), QSettings::IniFormat);
        local = ClusterSettings::load(empty);
        QVERIFY(local.kind == ClusterKind::Local);
        QVERIFY(!local.options.tls.has_value());
        QVERIFY(local.options.listen.empty());
        QVERIFY(local.clientOptions().localWorkers);
        QVERIFY(local.clientOptions().listen.empty());
        QVERIFY(local.differsFrom(out));

        // Fresh settings mean process workers; a user who saved "threads" keeps them.
        QVERIFY(local.options.processes);
        QSettings threads(dir.filePath(QStringLiteral("c.ini")), QSettings::IniFormat);
        threads.setValue(QStringLiteral("cluster/processes"), false);
        QVERIFY(!ClusterSettings::load(threads).options.processes);
    }

    void dialogRoundTrip()
    {
        const ClusterSettings in = slurmSample();
        SettingsDialog d(in, {QStringLiteral("/opt/plugins")});
        QVERIFY(!d.clusterChanged(in));
        const ClusterSettings same = d.settings();
        QVERIFY(!same.differsFrom(in));
        QCOMPARE(same.slurm.jobExtra, in.slurm.jobExtra);
        QVERIFY(d.problem().isEmpty());

        // Every field is reachable by its accessible name; edits land in the settings.
        auto *kind = field<QComboBox>(&d, QStringLiteral("Cluster type"));
        auto *listen = field<QLineEdit>(&d, QStringLiteral("Listen for remote workers"));
        auto *token = field<QLineEdit>(&d, QStringLiteral("Token file"));
        auto *tls = field<QComboBox>(&d, QStringLiteral("TLS"));
        auto *memory = field<QLineEdit>(&d, QStringLiteral("Memory per job"));
        auto *cores = field<QSpinBox>(&d, QStringLiteral("Cores per job"));
        auto *extra = field<QPlainTextEdit>(&d, QStringLiteral("Job extra lines"));
        auto *adaptive = field<QCheckBox>(&d, QStringLiteral("Adaptive"));
        auto *jobs = field<QSpinBox>(&d, QStringLiteral("Jobs"));
        for (QWidget *w : std::initializer_list<QWidget *>{
                 kind, listen, token, tls, memory, cores, extra, adaptive, jobs})
            QVERIFY(w);
        QVERIFY(!jobs->isEnabled()); // adaptive: the range counts, not a fixed number
        adaptive->setChecked(false);
        QVERIFY(jobs->isEnabled());
        jobs->setValue(3);
        cores->setValue(16);
        memory->setText(QStringLiteral(" 500M "));
        extra->setPlainText(QStringLiteral("--qos=short\n\n  --exclusive  \n"));
        tls->setCurrentIndex(2);
        listen->setText(QStringLiteral("[::1]:0"));
        ClusterSettings out = d.settings();
        QVERIFY(out.differsFrom(in));
        QVERIFY(!out.adaptive);
        QCOMPARE(out.jobs, 3);
        QCOMPARE(out.slurm.cores, 16);
        QCOMPARE(out.slurm.memory, std::string("500M"));
        QCOMPARE(out.slurm.jobExtra, (std::vector<std::string>{"--qos=short", "--exclusive"}));
        QVERIFY(out.options.tls.has_value() && !*out.options.tls);
        QCOMPARE(out.options.listen, std::string("[::1]:0"));

        kind->setCurrentIndex(0);
        token->clear();
        out = d.settings();
        QVERIFY(out.kind == ClusterKind::Local);
        QVERIFY(out.options.tokenFile.empty());
        QVERIFY(out.clientOptions().localWorkers);
        QCOMPARE(d.pluginFolders(), QStringList{QStringLiteral("/opt/plugins")});

        // Labels are buddies of their fields (keyboard mnemonics reach them).
        int buddies = 0;
        for (QLabel *l : d.findChildren<QLabel *>())
            buddies += l->buddy() != nullptr;
        QVERIFY2(buddies >= 15, qPrintable(QString::number(buddies)));
    }

    void invalidInputRefused_data()
    {
        QTest::addColumn<QString>("listen");
        QTest::addColumn<bool>("ok");
        QTest::newRow("ipv4 any port") << "127.0.0.1:0" << true;
        QTest::newRow("hostname") << "myhost:5555" << true;
        QTest::newRow("ipv6") << "[::1]:0" << true;
        QTest::newRow("wildcard") << "0.0.0.0:0" << true;
        QTest::newRow("no port") << "localhost" << false;
        QTest::newRow("empty port") << "localhost:" << false;
        QTest::newRow("port too big") << "localhost:70000" << false;
        QTest::newRow("port not a number") << "localhost:http" << false;
        QTest::newRow("negative port") << "localhost:-1" << false;
        QTest::newRow("no host") << ":0" << false;
        QTest::newRow("bare ipv6") << "::1:0" << false;
        QTest::newRow("ipv6 no port") << "[::1]" << false;
        QTest::newRow("space") << "my host:1" << false;
        QTest::newRow("url") << "tcp://host:1" << false;
    }

    void invalidInputRefused()
    {
        QFETCH(QString, listen);
        QFETCH(bool, ok);
        const QString problem = listenAddressProblem(listen);
        QCOMPARE(problem.isEmpty(), ok);

        ClusterSettings c;
        c.options.listen = listen.toStdString();
        SettingsDialog d(c, {});
        d.show();
        d.accept();
        if (ok) {
            QCOMPARE(d.result(), int(QDialog::Accepted));
            QVERIFY(d.shownProblem().isEmpty());
            return;
        }
        // Refused: the dialog stays open and says what is wrong.
        QVERIFY(d.isVisible());
        QCOMPARE(d.result(), int(QDialog::Rejected));
        QVERIFY(!problem.isEmpty());
        QCOMPARE(d.shownProblem(), problem);
        // Fixed, it is accepted.
        field<QLineEdit>(&d, QStringLiteral("Listen for remote workers"))
            ->setText(QStringLiteral("127.0.0.1:0"));
        d.accept();
        QCOMPARE(d.result(), int(QDialog::Accepted));
    }

    void slurmFieldsChecked()
    {
        auto problemWith = [](auto change) {
            ClusterSettings c = slurmSample();
            change(c);
            return settingsProblem(c);
        };
        QVERIFY(settingsProblem(slurmSample()).isEmpty());
        QVERIFY(problemWith([](ClusterSettings &c) {
                    c.slurm.memory = "4 GB";
                }).startsWith(QStringLiteral("Memory per job")));
        QVERIFY(problemWith([](ClusterSettings &c) {
                    c.slurm.walltime = "1h";
                }).startsWith(QStringLiteral("Walltime")));
        QVERIFY(problemWith([](ClusterSettings &c) { c.slurm.walltime = "90"; }).isEmpty());
        QVERIFY(problemWith([](ClusterSettings &c) {
                    c.slurm.partition = "a b";
                }).contains(QStringLiteral("partition")));
        QVERIFY(problemWith([](ClusterSettings &c) {
                    c.slurm.jobExtra = {"gres=gpu:1"};
                }).contains(QStringLiteral("gres=gpu:1")));
        QVERIFY(problemWith([](ClusterSettings &c) {
                    c.adaptMin = 10;
                }).contains(QStringLiteral("must not exceed")));
        QVERIFY(problemWith([](ClusterSettings &c) {
                    c.options.tokenFile = "/no/such/dir/t";
                }).contains(QStringLiteral("does not exist")));
        QVERIFY(problemWith([](ClusterSettings &c) {
                    c.options.tokenFile = "/tmp";
                }).contains(QStringLiteral("folder")));
        // A local cluster ignores the Slurm fields.
        QVERIFY(problemWith([](ClusterSettings &c) {
                    c.kind = ClusterKind::Local;
                    c.slurm.memory = "lots";
                }).isEmpty());

        // The dialog refuses bad Slurm input too.
        ClusterSettings bad = slurmSample();
        bad.slurm.walltime = "soon";
        SettingsDialog d(bad, {});
        d.show();
        d.accept();
        QVERIFY(d.isVisible());
        QVERIFY(d.shownProblem().startsWith(QStringLiteral("Walltime")));
    }

    void jobScriptFollowsFields()
    {
        ClusterSettings c = slurmSample();
        c.options.listen.clear();
        c.options.tokenFile = "/home/u/.taskbench/cluster.token";
        SettingsDialog d(c, {});
        const QString script = d.jobScriptText();
        QVERIFY2(script.startsWith(QStringLiteral("#!/usr/bin/env bash")), qPrintable(script));
        for (const char *line : {"#SBATCH --cpus-per-task=4",
                                 "#SBATCH --mem=8G",
                                 "#SBATCH --partition=gpu",
                                 "#SBATCH --time=2-00:30:00",
                                 "#SBATCH --account=proj42",
                                 "#SBATCH --gres=gpu:1",
                                 "--token-file /home/u/.taskbench/cluster.token"})
            QVERIFY2(script.contains(QLatin1String(line)), line);
        // The default address: this host, the port chosen at start.
        QString host = defaultSlurmListen();
        host.chop(2);
        QVERIFY2(script.contains(QStringLiteral("tcp://%1:PORT").arg(host)), qPrintable(script));

        // The button shows it in a read-only text window.
        d.show();
        // TASKBENCH_SCREENSHOT_DIR=dir: keep pictures of the dialog to look at (not asserted).
        const QString shots = qEnvironmentVariable("TASKBENCH_SCREENSHOT_DIR");
        if (!shots.isEmpty()) {
            d.grab().save(shots + QStringLiteral("/settings-slurm.png"));
            SettingsDialog local(ClusterSettings{}, {});
            local.show();
            local.grab().save(shots + QStringLiteral("/settings-local.png"));
        }
        d.showJobScript();
        QPlainTextEdit *shown = nullptr;
        QTRY_VERIFY((shown = field<QPlainTextEdit>(&d, QStringLiteral("Job script"))));
        QVERIFY(shown->isReadOnly());
        QCOMPARE(shown->toPlainText(), script);
        if (!shots.isEmpty())
            shown->window()->grab().save(shots + QStringLiteral("/job-script.png"));
    }

    void slurmJobsTable()
    {
        WorkersPanel panel;
        QTableView *table = panel.slurmJobsTable();
        QCOMPARE(table->accessibleName(), QStringLiteral("Slurm jobs"));
        QStringList headers;
        for (int c = 0; c < panel.slurmJobsModel()->columnCount(); ++c)
            headers << panel.slurmJobsModel()
                           ->headerData(c, Qt::Horizontal, Qt::DisplayRole)
                           .toString();
        QCOMPARE(headers,
                 (QStringList{QStringLiteral("Job"),
                              QStringLiteral("State"),
                              QStringLiteral("Node"),
                              QStringLiteral("Worker"),
                              QStringLiteral("Cause")}));
        QVERIFY(!table->horizontalHeader()->isHidden());

        SlurmJob pending;
        pending.id = "101";
        pending.slurmState = "PENDING";
        pending.reason = "Resources";
        SlurmJob running;
        running.id = "102";
        running.state = SlurmJobState::Running;
        running.slurmState = "RUNNING";
        running.node = "node7";
        running.worker = 3;
        SlurmJob lost;
        lost.id = "103";
        lost.state = SlurmJobState::Ended;
        lost.slurmState = "CANCELLED";
        lost.node = "node8";
        lost.worker = 4;
        lost.lost = true;
        lost.cause = "job 103 cancelled";
        panel.setSlurmJobs({pending, running, lost});
        const SlurmJobsModel *m = panel.slurmJobsModel();
        QCOMPARE(m->rowCount(), 3);
        auto cell
            = [m](int row, int col) { return m->index(row, col).data(Qt::DisplayRole).toString(); };
        QCOMPARE(cell(0, SlurmJobsModel::Job), QStringLiteral("101"));
        QCOMPARE(cell(0, SlurmJobsModel::State), QStringLiteral("pending"));
        QCOMPARE(cell(0, SlurmJobsModel::Node), QStringLiteral("—"));
        QCOMPARE(cell(0, SlurmJobsModel::Worker), QStringLiteral("—"));
        QCOMPARE(cell(0, SlurmJobsModel::Cause), QStringLiteral("Resources"));
        QCOMPARE(cell(1, SlurmJobsModel::State), QStringLiteral("running"));
        QCOMPARE(cell(1, SlurmJobsModel::Node), QStringLiteral("node7"));
        QCOMPARE(cell(1, SlurmJobsModel::Worker), QStringLiteral("worker-3"));
        QCOMPARE(cell(2, SlurmJobsModel::State), QStringLiteral("ended (CANCELLED)"));
        QCOMPARE(cell(2, SlurmJobsModel::Cause), QStringLiteral("job 103 cancelled"));

        // The same jobs later: rows update in place.
        running.state = SlurmJobState::Ended;
        running.slurmState = "COMPLETED";
        running.cause = "scaled down";
        panel.setSlurmJobs({pending, running, lost});
        QCOMPARE(cell(1, SlurmJobsModel::State), QStringLiteral("ended (COMPLETED)"));
        QCOMPARE(cell(1, SlurmJobsModel::Cause), QStringLiteral("scaled down"));

        // The table shows only for a Slurm cluster.
        panel.show();
        QVERIFY(!table->isVisible());
        panel.setSlurmVisible(true);
        QVERIFY(table->isVisible());
    }

    void remoteWorkerJoinsBridgeCluster()
    {
        const QString workerExe = QStringLiteral(TASKBENCH_BIN_DIR "/taskbench-worker");
        QVERIFY2(QFileInfo::exists(workerExe), qPrintable(workerExe));
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString token = dir.filePath(QStringLiteral("cluster.token")); // created, 0600

        FuturesModel futures;
        auto bridge = std::make_unique<EngineBridge>(&futures);
        bridge->catalog()->setUseDefaultSearchPath(false);
        ClusterSettings settings;
        settings.options.workers = 1;
        settings.options.listen = "127.0.0.1:0";
        settings.options.tokenFile = token.toStdString();
        QVERIFY(settingsProblem(settings).isEmpty());
        bridge->start(settings);
        QVERIFY(bridge->isRunning());
        const QString address = bridge->listenAddress();
        QVERIFY2(address.startsWith(QStringLiteral("tcp://127.0.0.1:")), qPrintable(address));
        QVERIFY(!address.endsWith(QStringLiteral(":0")));
        QCOMPARE(bridge->tokenFile(), token);
        QVERIFY(QFileInfo::exists(token));

        WorkersPanel panel;
        panel.setRefreshInterval(100);
        panel.setClient(bridge->client(), bridge->slurmCluster());
        panel.setListenInfo(bridge->listenAddress(), bridge->tokenFile());
        panel.show();
        QVERIFY(panel.listenLabel()->isVisible());
        QVERIFY(panel.listenLabel()->text().contains(address));
        QCOMPARE(
            panel.workerCommand(),
            QStringLiteral("taskbench-worker --scheduler %1 --token-file %2").arg(address, token));
        QVERIFY(!panel.slurmJobsTable()->isVisible()); // a local cluster has no jobs

        QProcess worker;
        worker.setProcessChannelMode(QProcess::MergedChannels);
        worker.start(workerExe,
                     {QStringLiteral("--scheduler"),
                      address,
                      QStringLiteral("--token-file"),
                      token,
                      QStringLiteral("--name"),
                      QStringLiteral("gui-remote-1"),
                      QStringLiteral("--threads"),
                      QStringLiteral("2"),
                      QStringLiteral("--runtime-dir"),
                      dir.path()});
        QVERIFY(worker.waitForStarted(10000));

        const WorkersModel *m = panel.model();
        auto remoteRow = [m]() -> int {
            for (int r = 0; r < m->rowCount(); ++r)
                if (m->workers()[std::size_t(r)].remote)
                    return r;
            return -1;
        };
        QTRY_VERIFY_WITH_TIMEOUT(remoteRow() >= 0, 20000);
        const int row = remoteRow();
        const WorkerInfo &w = m->workers()[std::size_t(row)];
        QCOMPARE(w.label, std::string("gui-remote-1"));
        QCOMPARE(w.threads, 2);
        // Its name shows label, host and connection; the tooltip spells them out.
        const QString name = m->index(row, WorkersModel::Name).data().toString();
        QVERIFY2(name.contains(QStringLiteral("gui-remote-1@")), qPrintable(name));
        QVERIFY2(name.contains(QStringLiteral(" from 127.0.0.1:")), qPrintable(name));
        const QString tip = m->index(row, WorkersModel::Name).data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.startsWith(QStringLiteral("Label: gui-remote-1\nHost: ")), qPrintable(tip));
        QCOMPARE(m->index(row, WorkersModel::Pid).data().toString(), QStringLiteral("—"));
        // The local worker is still there, shown as before.
        QCOMPARE(m->rowCount(), 2);
        QVERIFY(!m->workers()[std::size_t(1 - row)].remote);
        QVERIFY(!m->index(1 - row, WorkersModel::Name)
                     .data()
                     .toString()
                     .contains(QStringLiteral(" from ")));
        QTRY_COMPARE(bridge->workerCount(), 2);
        if (const QString shots = qEnvironmentVariable("TASKBENCH_SCREENSHOT_DIR");
            !shots.isEmpty()) {
            panel.resize(900, 260);
            panel.grab().save(shots + QStringLiteral("/workers-remote.png"));
        }

        // Restarting as a plain local cluster stops listening; the remote worker is told to
        // leave when the old cluster closes (exit code 0).
        bridge->restart(ClusterOptions{});
        QVERIFY(bridge->listenAddress().isEmpty());
        QVERIFY(worker.waitForFinished(30000));
        QCOMPARE(worker.exitStatus(), QProcess::NormalExit);
        QVERIFY2(worker.exitCode() == 0, worker.readAll().constData());
        panel.setClient(nullptr);
        bridge.reset();
    }
};

QTEST_MAIN(tst_ClusterSettings)
#include "tst_clustersettings.moc"
