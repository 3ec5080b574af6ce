// Reading what Slurm's tools print (no Slurm needed): sbatch's job id, squeue's rows, the
// mapping of Slurm's job states to pending/running/ended, and the named causes of a lost job.
#include "slurm/slurmcommands_p.h"

#include <QtTest>

using namespace taskbench;
using namespace taskbench::detail;

class TstSlurmCommands : public QObject
{
    Q_OBJECT

private slots:
    void test_sbatchJobId();
    void test_squeueRows();
    void test_states();
    void test_causes();
    void test_runCommand();
};

void TstSlurmCommands::test_sbatchJobId()
{
    QCOMPARE(parseSbatchJobId("42\n").value_or(""), std::string("42"));
    QCOMPARE(parseSbatchJobId("1234;cluster2\n").value_or(""), std::string("1234"));
    // Warnings may come first.
    QCOMPARE(parseSbatchJobId("sbatch: warning: can't honor --ntasks\n77\n").value_or(""),
             std::string("77"));
    QVERIFY(!parseSbatchJobId("").has_value());
    QVERIFY(!parseSbatchJobId("sbatch: error: invalid partition specified: gpu\n").has_value());
    QVERIFY(!parseSbatchJobId("Submitted batch job\n").has_value());
}

void TstSlurmCommands::test_squeueRows()
{
    const auto rows = parseSqueue("12|RUNNING|node7|None\n"
                                  "13|PENDING||Resources\n"
                                  "garbage line\n"
                                  "|RUNNING|x|None\n"
                                  "14|COMPLETING|node8|TimeLimit\n");
    QCOMPARE(int(rows.size()), 3);
    QCOMPARE(rows.at("12").state, std::string("RUNNING"));
    QCOMPARE(rows.at("12").node, std::string("node7"));
    QVERIFY(rows.at("12").reason.empty()); // "None" is no reason
    QCOMPARE(rows.at("13").reason, std::string("Resources"));
    QVERIFY(rows.at("13").node.empty());
    QCOMPARE(rows.at("14").reason, std::string("TimeLimit"));
    QVERIFY(parseSqueue("").empty());
}

void TstSlurmCommands::test_states()
{
    QCOMPARE(jobStateFromSlurm("PENDING"), SlurmJobState::Pending);
    QCOMPARE(jobStateFromSlurm("CONFIGURING"), SlurmJobState::Pending);
    QCOMPARE(jobStateFromSlurm("RUNNING"), SlurmJobState::Running);
    QCOMPARE(jobStateFromSlurm("SUSPENDED"), SlurmJobState::Running);
    for (const char *s : {"COMPLETING",
                          "COMPLETED",
                          "CANCELLED",
                          "FAILED",
                          "TIMEOUT",
                          "NODE_FAIL",
                          "PREEMPTED",
                          "OUT_OF_MEMORY",
                          "BOOT_FAIL",
                          "DEADLINE"})
        QCOMPARE(jobStateFromSlurm(s), SlurmJobState::Ended);
    QCOMPARE(QString(toString(SlurmJobState::Ended)), QString("ended"));
}

void TstSlurmCommands::test_causes()
{
    QCOMPARE(endCause("42", "CANCELLED"), std::string("job 42 cancelled"));
    QCOMPARE(endCause("42", "TIMEOUT"), std::string("job 42 reached its walltime"));
    // While the job is still completing, squeue's reason tells.
    QCOMPARE(endCause("42", "COMPLETING", "TimeLimit"), std::string("job 42 reached its walltime"));
    QCOMPARE(endCause("42", "NODE_FAIL"), std::string("job 42: its node failed"));
    QCOMPARE(endCause("42", "COMPLETING", "NodeDown"), std::string("job 42: its node failed"));
    QCOMPARE(endCause("42", "OUT_OF_MEMORY"), std::string("job 42 ran out of memory"));
    QCOMPARE(endCause("42", "PREEMPTED"), std::string("job 42 preempted"));
    QVERIFY(endCause("42", "FAILED").rfind("job 42 failed", 0) == 0);
    QCOMPARE(endCause("42", ""), std::string("job 42 ended (no longer known to Slurm)"));
    QCOMPARE(endCause("42", "REVOKED"), std::string("job 42 ended (REVOKED)"));
}

void TstSlurmCommands::test_runCommand()
{
    const CommandResult echo = runCommand("/bin/sh", {"-c", "cat; echo err >&2; exit 3"}, "in\n");
    QVERIFY(echo.started);
    QCOMPARE(echo.exitCode, 3);
    QCOMPARE(echo.out, std::string("in\n"));
    QCOMPARE(echo.err, std::string("err\n"));
    QVERIFY(echo.describe("sh").find("exit code 3: err") != std::string::npos);

    const CommandResult missing = runCommand("/nonexistent/sbatch", {});
    QVERIFY(!missing.started);
    QVERIFY(missing.describe("sbatch").find("could not be run") != std::string::npos);

    const CommandResult slow = runCommand("/bin/sleep", {"10"}, {}, std::chrono::milliseconds(200));
    QVERIFY(slow.started);
    QVERIFY(slow.exitCode != 0);
    QVERIFY(slow.err.find("timed out") != std::string::npos);
}

QTEST_GUILESS_MAIN(TstSlurmCommands)
#include "tst_slurmcommands.moc"
