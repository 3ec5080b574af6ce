// taskbench-cli and the run history: which database (--db, else the default), opening it for
// the `history` commands, and recording a work command's run (unless --no-history).
#pragma once

#include "commandline.h"

#include "taskbench/client.h"
#include "taskbench/history/historystore.h"
#include "taskbench/history/recorder.h"

#include <optional>
#include <string>

namespace taskbench::cli {

/// --db PATH, else HistoryStore::defaultPath().
std::string historyPath(const Options &opts);

/// Opens the history database; throws InputError when it cannot. Notices go to stderr.
void openHistory(history::HistoryStore &store, const Options &opts);

/// Records the run titled `title` into `recorder`; an unusable database only costs the
/// recording (said on stderr, `recorder` left empty), never the run.
void startRecording(std::optional<history::Recorder> &recorder,
                    Client &client,
                    const Options &opts,
                    const std::string &title);

} // namespace taskbench::cli
