// Running Slurm's command line tools and reading what they print.
#include "slurm/slurmcommands_p.h"

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace taskbench::detail {

namespace {

std::string trimmed(std::string s)
{
    auto notSpace = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), notSpace));
    s.erase(std::find_if(s.rbegin(), s.rend(), notSpace).base(), s.end());
    return s;
}

bool isJobId(const std::string &s)
{
    // Plain ids ("42"), array elements ("42_3") and het job parts ("42+1").
    return !s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))
           && std::all_of(s.begin(), s.end(), [](unsigned char c) {
                  return std::isdigit(c) || c == '_' || c == '+';
              });
}

} // namespace

std::string CommandResult::describe(const std::string &program) const
{
    if (!started)
        return program + ": could not be run (is Slurm installed and on PATH?)";
    std::string text = trimmed(err.empty() ? out : err);
    if (text.size() > 500)
        text = text.substr(0, 500) + "...";
    return program + ": exit code " + std::to_string(exitCode) + (text.empty() ? "" : ": " + text);
}

CommandResult runCommand(const std::string &program,
                         const std::vector<std::string> &args,
                         const std::string &input,
                         std::chrono::milliseconds timeout)
{
    CommandResult result;
    QProcess process;
    QStringList qargs;
    for (const std::string &a : args)
        qargs << QString::fromStdString(a);
    process.start(QString::fromStdString(program), qargs);
    if (!process.waitForStarted(int(timeout.count())))
        return result;
    result.started = true;
    if (!input.empty())
        process.write(input.data(), qint64(input.size()));
    process.closeWriteChannel();
    if (!process.waitForFinished(int(timeout.count()))) {
        process.kill();
        process.waitForFinished(1000);
        result.err = "timed out after " + std::to_string(timeout.count()) + " ms";
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput().toStdString();
    result.err = process.readAllStandardError().toStdString();
    return result;
}

std::optional<std::string> parseSbatchJobId(const std::string &out)
{
    // --parsable prints "id" or "id;cluster", possibly after warnings on other lines.
    std::istringstream lines(out);
    std::string line;
    std::optional<std::string> id;
    while (std::getline(lines, line)) {
        line = trimmed(line);
        const std::string first = line.substr(0, line.find(';'));
        if (isJobId(first))
            id = first;
    }
    return id;
}

std::map<std::string, SqueueRow> parseSqueue(const std::string &out)
{
    std::map<std::string, SqueueRow> rows;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        std::vector<std::string> fields;
        std::istringstream parts(line);
        std::string field;
        while (std::getline(parts, field, '|'))
            fields.push_back(trimmed(field));
        if (fields.size() < 2 || !isJobId(fields[0]) || fields[1].empty())
            continue;
        SqueueRow row;
        row.id = fields[0];
        row.state = fields[1];
        if (fields.size() > 2)
            row.node = fields[2];
        if (fields.size() > 3 && fields[3] != "None")
            row.reason = fields[3];
        rows[row.id] = std::move(row);
    }
    return rows;
}

SlurmJobState jobStateFromSlurm(const std::string &s)
{
    if (s == "PENDING" || s == "CONFIGURING" || s == "REQUEUED" || s == "REQUEUE_HOLD"
        || s == "REQUEUE_FED" || s == "RESV_DEL_HOLD")
        return SlurmJobState::Pending;
    // Ending (COMPLETING, STAGE_OUT) counts as ended: its worker is being stopped.
    if (s == "COMPLETED" || s == "COMPLETING" || s == "CANCELLED" || s == "FAILED" || s == "TIMEOUT"
        || s == "NODE_FAIL" || s == "PREEMPTED" || s == "BOOT_FAIL" || s == "DEADLINE"
        || s == "OUT_OF_MEMORY" || s == "REVOKED" || s == "SPECIAL_EXIT" || s == "STAGE_OUT")
        return SlurmJobState::Ended;
    return SlurmJobState::Running; // RUNNING, SUSPENDED, STOPPED, SIGNALING, RESIZING...
}

std::string endCause(const std::string &id, const std::string &s, const std::string &reason)
{
    const std::string job = "job " + id;
    if (s == "TIMEOUT" || (s == "COMPLETING" && reason == "TimeLimit"))
        return job + " reached its walltime";
    if (s == "NODE_FAIL" || (s == "COMPLETING" && reason == "NodeDown"))
        return job + ": its node failed";
    if (s == "CANCELLED")
        return job + " cancelled";
    if (s == "TIMEOUT")
        return job + " reached its walltime";
    if (s == "NODE_FAIL")
        return job + ": its node failed";
    if (s == "PREEMPTED")
        return job + " preempted";
    if (s == "OUT_OF_MEMORY")
        return job + " ran out of memory";
    if (s == "BOOT_FAIL")
        return job + ": its node failed to boot";
    if (s == "DEADLINE")
        return job + " reached its deadline";
    if (s == "FAILED")
        return job + " failed (the worker exited with an error; see the job's output)";
    if (s == "COMPLETED")
        return job + " ended (its worker exited)";
    if (s == "COMPLETING")
        return job + " ending";
    if (s.empty())
        return job + " ended (no longer known to Slurm)";
    return job + " ended (" + s + ")";
}

} // namespace taskbench::detail
