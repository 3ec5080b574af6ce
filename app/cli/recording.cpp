// The history database of taskbench-cli (see recording.h).
#include "recording.h"

#include "commands.h"
#include "signals.h"

#include "taskbench/history/crashmarker.h"

#include <iostream>

namespace taskbench::cli {

std::string historyPath(const Options &opts)
{
    return opts.historyDb.empty() ? history::HistoryStore::defaultPath() : opts.historyDb;
}

void openHistory(history::HistoryStore &store, const Options &opts)
{
    if (!store.open(historyPath(opts)))
        throw InputError("history: " + store.errorString());
    for (const std::string &notice : store.notices())
        std::cerr << "taskbench-cli: history: " << notice << "\n";
}

void startRecording(std::optional<history::Recorder> &recorder,
                    Client &client,
                    const Options &opts,
                    const std::string &title)
{
    history::RecorderOptions ro;
    ro.databasePath = historyPath(opts);
    ro.session.app = "taskbench-cli";
    ro.session.title = title;
    ro.session.workers = int(client.workers().size());
    ro.session.threadsPerWorker = opts.threadsPerWorker;
    ro.session.processes = opts.processes;
    // Ctrl-C closes the recording like a finished run (reporting.cpp); the session must
    // still read as stopped.
    ro.interrupted = [] { return interrupted(); };
    recorder.emplace(client, ro);
    for (const std::string &notice : recorder->notices())
        std::cerr << "taskbench-cli: history: " << notice << "\n";
    if (!recorder->ok()) {
        std::cerr << "taskbench-cli: history: " << recorder->errorString()
                  << "; this run is not recorded\n";
        recorder.reset();
        return;
    }
    // A crash (thread workers) leaves its signal's name for the next start's notice.
    history::installCrashMarker(ro.databasePath);
}

void CommandContext::track(const std::vector<Future> &futures, const SubmitOptions &options) const
{
    if (recorder)
        recorder->track(futures, options);
}

} // namespace taskbench::cli
