// Names the signal that ended a crashed session. A process that records history installs
// fatal-signal handlers that leave a one-line marker file beside the database
// ("<db>.crash-<host>-<pid>" holding e.g. "SIGSEGV") and then die of the same signal as
// before (exit status, core dump and any earlier handler unchanged). The next start that
// finds the session still "running" with its process gone reads the marker, so the notice
// says "ended by SIGSEGV" rather than only "ended without closing".
#pragma once

#include <string>

namespace taskbench::history {

/// Where a process with `pid` on `host` leaves its marker for the database at `databasePath`.
std::string crashMarkerPath(const std::string &databasePath, const std::string &host, long pid);

/// Installs the handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT for this process
/// and the database at `databasePath` (a later call replaces the path). The handler only
/// uses async-signal-safe calls. False when a handler could not be installed.
bool installCrashMarker(const std::string &databasePath);

/// The signal name a dead process recorded ("SIGSEGV"), or empty when it left none; the
/// marker is removed either way.
std::string takeCrashMarker(const std::string &databasePath, const std::string &host, long pid);

} // namespace taskbench::history
