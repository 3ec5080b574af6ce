#include "clustersettings.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSettings>

#include <unistd.h>

namespace taskbench::gui {

namespace {

QString tlsToText(const std::optional<bool> &tls)
{
    return !tls ? QStringLiteral("auto") : *tls ? QStringLiteral("on") : QStringLiteral("off");
}

std::optional<bool> tlsFromText(const QString &text)
{
    if (text == QLatin1String("on"))
        return true;
    if (text == QLatin1String("off"))
        return false;
    return std::nullopt;
}

QStringList toQStringList(const std::vector<std::string> &lines)
{
    QStringList out;
    for (const std::string &l : lines)
        out << QString::fromStdString(l);
    return out;
}

bool hasLineBreak(const std::string &s)
{
    return s.find_first_of("\n\r") != std::string::npos;
}

} // namespace

ClusterOptions ClusterSettings::clientOptions() const
{
    ClusterOptions o = options;
    if (kind == ClusterKind::Slurm) {
        o.localWorkers = false;
        if (o.listen.empty())
            o.listen = defaultSlurmListen().toStdString();
    }
    return o;
}

SlurmOptions ClusterSettings::slurmOptions(const std::string &address,
                                           const std::string &tokenFile) const
{
    SlurmOptions o = slurm;
    o.schedulerAddress = address;
    o.tokenFile = tokenFile;
    return o;
}

bool ClusterSettings::differsFrom(const ClusterSettings &b) const
{
    const ClusterOptions &x = options;
    const ClusterOptions &y = b.options;
    if (kind != b.kind || x.allowedFailures != y.allowedFailures || x.listen != y.listen
        || x.tokenFile != y.tokenFile || x.tls != y.tls)
        return true;
    if (kind == ClusterKind::Local)
        return x.workers != y.workers || x.threadsPerWorker != y.threadsPerWorker
               || x.processes != y.processes;
    return jobs != b.jobs || adaptive != b.adaptive || adaptMin != b.adaptMin
           || adaptMax != b.adaptMax || slurm.cores != b.slurm.cores
           || slurm.memory != b.slurm.memory || slurm.partition != b.slurm.partition
           || slurm.walltime != b.slurm.walltime || slurm.account != b.slurm.account
           || slurm.jobExtra != b.slurm.jobExtra;
}

ClusterSettings ClusterSettings::load(QSettings &s)
{
    ClusterSettings c;
    ClusterOptions &o = c.options;
    s.beginGroup(QStringLiteral("cluster"));
    c.kind = s.value(QStringLiteral("type")).toString() == QLatin1String("slurm")
                 ? ClusterKind::Slurm
                 : ClusterKind::Local;
    o.workers = s.value(QStringLiteral("workers"), 0).toInt();
    o.threadsPerWorker = s.value(QStringLiteral("threadsPerWorker"), 1).toInt();
    // Process workers unless the user saved "threads": a crashing plugin must not end the app.
    o.processes = s.value(QStringLiteral("processes"), true).toBool();
    o.allowedFailures = s.value(QStringLiteral("allowedFailures"), 3).toInt();
    o.listen = s.value(QStringLiteral("listen")).toString().toStdString();
    o.tokenFile = s.value(QStringLiteral("tokenFile")).toString().toStdString();
    o.tls = tlsFromText(s.value(QStringLiteral("tls"), QStringLiteral("auto")).toString());
    s.beginGroup(QStringLiteral("slurm"));
    c.jobs = s.value(QStringLiteral("jobs"), 1).toInt();
    c.adaptive = s.value(QStringLiteral("adaptive"), false).toBool();
    c.adaptMin = s.value(QStringLiteral("adaptMin"), 0).toInt();
    c.adaptMax = s.value(QStringLiteral("adaptMax"), 4).toInt();
    c.slurm.cores = s.value(QStringLiteral("cores"), 1).toInt();
    c.slurm.memory
        = s.value(QStringLiteral("memory"), QStringLiteral("2G")).toString().toStdString();
    c.slurm.partition = s.value(QStringLiteral("partition")).toString().toStdString();
    c.slurm.walltime
        = s.value(QStringLiteral("walltime"), QStringLiteral("01:00:00")).toString().toStdString();
    c.slurm.account = s.value(QStringLiteral("account")).toString().toStdString();
    c.slurm.jobExtra.clear();
    for (const QString &l : s.value(QStringLiteral("jobExtra")).toStringList())
        c.slurm.jobExtra.push_back(l.toStdString());
    s.endGroup();
    s.endGroup();
    return c;
}

void ClusterSettings::save(QSettings &s) const
{
    const ClusterOptions &o = options;
    s.beginGroup(QStringLiteral("cluster"));
    s.setValue(QStringLiteral("type"),
               kind == ClusterKind::Slurm ? QStringLiteral("slurm") : QStringLiteral("local"));
    s.setValue(QStringLiteral("workers"), o.workers);
    s.setValue(QStringLiteral("threadsPerWorker"), o.threadsPerWorker);
    s.setValue(QStringLiteral("processes"), o.processes);
    s.setValue(QStringLiteral("allowedFailures"), o.allowedFailures);
    s.setValue(QStringLiteral("listen"), QString::fromStdString(o.listen));
    s.setValue(QStringLiteral("tokenFile"), QString::fromStdString(o.tokenFile));
    s.setValue(QStringLiteral("tls"), tlsToText(o.tls));
    s.beginGroup(QStringLiteral("slurm"));
    s.setValue(QStringLiteral("jobs"), jobs);
    s.setValue(QStringLiteral("adaptive"), adaptive);
    s.setValue(QStringLiteral("adaptMin"), adaptMin);
    s.setValue(QStringLiteral("adaptMax"), adaptMax);
    s.setValue(QStringLiteral("cores"), slurm.cores);
    s.setValue(QStringLiteral("memory"), QString::fromStdString(slurm.memory));
    s.setValue(QStringLiteral("partition"), QString::fromStdString(slurm.partition));
    s.setValue(QStringLiteral("walltime"), QString::fromStdString(slurm.walltime));
    s.setValue(QStringLiteral("account"), QString::fromStdString(slurm.account));
    s.setValue(QStringLiteral("jobExtra"), toQStringList(slurm.jobExtra));
    s.endGroup();
    s.endGroup();
}

QString listenAddressProblem(const QString &hostPort)
{
    const QString example = QStringLiteral("e.g. 127.0.0.1:0, myhost:5555 or [::1]:0");
    if (hostPort.trimmed() != hostPort || hostPort.contains(QLatin1Char(' ')))
        return QStringLiteral("The listen address must not contain spaces.");
    QString host;
    QString port;
    if (hostPort.startsWith(QLatin1Char('['))) {
        const int close = hostPort.indexOf(QLatin1Char(']'));
        if (close < 0 || close + 1 >= hostPort.size() || hostPort[close + 1] != QLatin1Char(':'))
            return QStringLiteral("Expected [IPv6]:PORT (%1), got \"%2\".").arg(example, hostPort);
        host = hostPort.mid(1, close - 1);
        port = hostPort.mid(close + 2);
    } else {
        const int colon = hostPort.lastIndexOf(QLatin1Char(':'));
        if (colon < 0 || hostPort.indexOf(QLatin1Char(':')) != colon)
            return QStringLiteral("Expected HOST:PORT (%1), got \"%2\".").arg(example, hostPort);
        host = hostPort.left(colon);
        port = hostPort.mid(colon + 1);
    }
    if (host.isEmpty())
        return QStringLiteral("The listen address needs a host (0.0.0.0 for every interface).");
    bool ok = false;
    const int p = port.toInt(&ok);
    if (port.isEmpty() || !ok || p < 0 || p > 65535
        || port.contains(QRegularExpression(QStringLiteral("[^0-9]"))))
        return QStringLiteral("The port must be a number from 0 to 65535 (0: any free port), "
                              "got \"%1\".")
            .arg(port);
    return {};
}

QString settingsProblem(const ClusterSettings &c)
{
    const ClusterOptions &o = c.options;
    if (!o.listen.empty()) {
        const QString p = listenAddressProblem(QString::fromStdString(o.listen));
        if (!p.isEmpty())
            return p;
    }
    if (!o.tokenFile.empty()) {
        const QFileInfo token(QString::fromStdString(o.tokenFile));
        if (token.isDir())
            return QStringLiteral("The token file \"%1\" is a folder.").arg(token.filePath());
        if (!token.exists() && !token.absoluteDir().exists())
            return QStringLiteral("The token file's folder \"%1\" does not exist.")
                .arg(token.absolutePath());
    }
    if (c.kind == ClusterKind::Local)
        return {};

    const SlurmOptions &s = c.slurm;
    if (s.cores < 1)
        return QStringLiteral("Cores per job must be at least 1.");
    if (c.adaptive) {
        if (c.adaptMax < 1)
            return QStringLiteral("Adaptive: the maximum number of jobs must be at least 1.");
        if (c.adaptMin > c.adaptMax)
            return QStringLiteral("Adaptive: the minimum (%1) must not exceed the maximum (%2).")
                .arg(c.adaptMin)
                .arg(c.adaptMax);
    } else if (c.jobs < 0) {
        return QStringLiteral("The number of jobs must not be negative.");
    }
    // Slurm's own syntax, checked here so a typo is named before sbatch refuses the job.
    static const QRegularExpression memory(QStringLiteral("^[0-9]+[KMGTkmgt]?$"));
    if (!s.memory.empty() && !memory.match(QString::fromStdString(s.memory)).hasMatch())
        return QStringLiteral("Memory per job: expected a size like 500M or 4G, got \"%1\".")
            .arg(QString::fromStdString(s.memory));
    static const QRegularExpression walltime(
        QStringLiteral("^([0-9]+|[0-9]+:[0-9]{1,2}|[0-9]+:[0-9]{1,2}:[0-9]{1,2}|[0-9]+-[0-9]+(:[0-"
                       "9]{1,2}){0,2})$"));
    if (!s.walltime.empty() && !walltime.match(QString::fromStdString(s.walltime)).hasMatch())
        return QStringLiteral("Walltime: expected minutes, HH:MM:SS or D-HH:MM:SS, got \"%1\".")
            .arg(QString::fromStdString(s.walltime));
    static const QRegularExpression word(QStringLiteral("^[^\\s]*$"));
    if (!word.match(QString::fromStdString(s.partition)).hasMatch() || hasLineBreak(s.partition))
        return QStringLiteral("The partition name must not contain spaces.");
    if (!word.match(QString::fromStdString(s.account)).hasMatch() || hasLineBreak(s.account))
        return QStringLiteral("The account name must not contain spaces.");
    for (const std::string &e : s.jobExtra)
        if (!QString::fromStdString(e).startsWith(QLatin1Char('-')) || hasLineBreak(e))
            return QStringLiteral("Each extra job line is one sbatch option such as "
                                  "--gres=gpu:1, got \"%1\".")
                .arg(QString::fromStdString(e));
    return {};
}

QString defaultSlurmListen()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
        return QStringLiteral("0.0.0.0:0");
    return QString::fromLocal8Bit(name) + QStringLiteral(":0");
}

} // namespace taskbench::gui
