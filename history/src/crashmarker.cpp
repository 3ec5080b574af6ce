// Fatal-signal handlers that leave a marker file naming the signal (see crashmarker.h).
// Everything the handler needs (the path, the signal names) is prepared at install time;
// the handler itself calls only open/write/close/sigaction/raise.
#include "taskbench/history/crashmarker.h"

#include <QString>
#include <QSysInfo>

#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <pthread.h>
#include <unistd.h>

namespace taskbench::history {

namespace {

constexpr std::array kFatalSignals{SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
constexpr std::size_t kPathMax = 4096;
constexpr std::size_t kNameMax = 16;

struct MarkerState
{
    char path[kPathMax] = {};
    std::array<char[kNameMax], kFatalSignals.size()> names{};
    std::array<struct sigaction, kFatalSignals.size()> previous{};
};

MarkerState g_state;
std::atomic<bool> g_installed{false};

int slotOf(int sig)
{
    for (std::size_t i = 0; i < kFatalSignals.size(); ++i)
        if (kFatalSignals[i] == sig)
            return int(i);
    return -1;
}

void onFatalSignal(int sig, siginfo_t *info, void *)
{
    const int slot = slotOf(sig);
    if (slot < 0)
        return;
    const int saved = errno;
    const int fd = ::open(g_state.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        const char *name = g_state.names[std::size_t(slot)];
        [[maybe_unused]] ssize_t n = ::write(fd, name, std::strlen(name));
        n = ::write(fd, "\n", 1);
        ::close(fd);
    }
    errno = saved;
    // Back to what was there before (the default action, or e.g. a sanitizer's handler).
    ::sigaction(sig, &g_state.previous[std::size_t(slot)], nullptr);
    // A fault raised by the kernel repeats when the instruction runs again after return, now
    // reaching the previous handler with its real siginfo; a sent signal is sent again.
    const bool fault = sig != SIGABRT && info && info->si_code > 0;
    if (!fault)
        ::raise(sig);
}

std::string safeHost(const std::string &host)
{
    std::string out;
    for (char c : host)
        out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
    return out.empty() ? std::string("host") : out;
}

} // namespace

std::string crashMarkerPath(const std::string &databasePath, const std::string &host, long pid)
{
    return databasePath + ".crash-" + safeHost(host) + "-" + std::to_string(pid);
}

bool installCrashMarker(const std::string &databasePath)
{
    const std::string path
        = crashMarkerPath(databasePath, QSysInfo::machineHostName().toStdString(), ::getpid());
    if (databasePath.empty() || path.size() >= kPathMax)
        return false;
    // The handler may run at any time: block the signals while its state changes.
    sigset_t block, old;
    sigemptyset(&block);
    for (int sig : kFatalSignals)
        sigaddset(&block, sig);
    ::pthread_sigmask(SIG_BLOCK, &block, &old);
    std::memcpy(g_state.path, path.c_str(), path.size() + 1);
    bool ok = true;
    if (!g_installed.exchange(true)) {
        for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
            const char *abbrev = ::sigabbrev_np(kFatalSignals[i]);
            std::snprintf(g_state.names[i], kNameMax, "SIG%s", abbrev ? abbrev : "?");
            struct sigaction action = {};
            action.sa_sigaction = &onFatalSignal;
            action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
            sigemptyset(&action.sa_mask);
            ok = ::sigaction(kFatalSignals[i], &action, &g_state.previous[i]) == 0 && ok;
        }
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return ok;
}

std::string takeCrashMarker(const std::string &databasePath, const std::string &host, long pid)
{
    const std::string path = crashMarkerPath(databasePath, host, pid);
    std::string name;
    {
        std::ifstream in(path);
        if (!in)
            return {};
        std::getline(in, name);
    }
    ::unlink(path.c_str());
    // Only a signal name is trusted from the file (it may be left over or damaged).
    if (name.size() < 4 || name.size() >= kNameMax || name.compare(0, 3, "SIG") != 0)
        return {};
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)))
            return {};
    return name;
}

} // namespace taskbench::history
