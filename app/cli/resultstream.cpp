// Standard output for results only (see resultstream.h).
#include "resultstream.h"

#include <cerrno>
#include <cstdio>
#include <ext/stdio_filebuf.h> // libstdc++'s streambuf over a file descriptor
#include <iostream>

#include <fcntl.h>
#include <unistd.h>

namespace taskbench::cli {

namespace {
std::ostream *g_results = nullptr; ///< the live ResultStream's stream (one per process)
bool g_stdoutClosed = false;       ///< at start
bool g_resultsLost = false;        ///< a ResultStream's writes failed
} // namespace

void guardStandardStreams()
{
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        if (fd == STDOUT_FILENO)
            g_stdoutClosed = true;
        const int opened = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (opened >= 0 && opened != fd) { // the lowest free descriptor is fd itself
            ::dup2(opened, fd);
            ::close(opened);
        }
    }
}

std::string standardOutputFailure()
{
    if (g_stdoutClosed)
        return "standard output is closed";
    std::cout.flush();
    if (g_resultsLost || !std::cout)
        return "writing to standard output failed";
    return {};
}

std::ostream &resultOut()
{
    return g_results ? *g_results : std::cout;
}

ResultStream::ResultStream()
{
    std::cout.flush();
    std::fflush(stdout);
    m_results = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (m_results < 0) // no standard output to keep apart: leave everything as it is
        return;
    if (::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        ::close(m_results);
        m_results = -1;
        return;
    }
    // The buffer closes m_results when it goes; the destructor first copies it back to fd 1.
    m_buffer = std::make_unique<__gnu_cxx::stdio_filebuf<char>>(m_results, std::ios::out);
    m_stream = std::make_unique<std::ostream>(m_buffer.get());
    g_results = m_stream.get();
}

ResultStream::~ResultStream()
{
    if (m_results < 0)
        return;
    m_stream->flush();
    g_resultsLost = g_resultsLost || !*m_stream;
    g_results = nullptr;
    std::cout.flush(); // what tasks printed, still bound for stderr
    std::fflush(stdout);
    ::dup2(m_results, STDOUT_FILENO);
    m_stream.reset();
    m_buffer.reset(); // stdio_filebuf closes m_results; fd 1 is the original again
}

} // namespace taskbench::cli
