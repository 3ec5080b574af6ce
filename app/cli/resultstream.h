// Standard output for results only. Tasks on thread workers run in this process and share
// its stdout (and std::cout): a plugin's printf or std::cout would land between result lines
// and break --json. While a ResultStream lives, file descriptor 1 points at stderr, so that
// whatever a task prints is shown there (as process workers' captured output is), and
// resultOut() writes to the original standard output through a descriptor of its own.
#pragma once

#include <memory>
#include <ostream>
#include <streambuf>
#include <string>

namespace taskbench::cli {

/// Where results go: the original standard output while a ResultStream lives, else
/// std::cout.
std::ostream &resultOut();

/// Called first in main: a closed stdin, stdout or stderr is opened on /dev/null, so that no
/// file opened later (the history database) becomes descriptor 1 and receives the results.
/// A closed stdout is remembered as a failure.
void guardStandardStreams();

/// After the command: why not everything written to standard output reached it (it was
/// closed, or a write failed: a full disk), or "" when it all did.
std::string standardOutputFailure();

class ResultStream
{
public:
    ResultStream();
    ~ResultStream(); ///< flushes resultOut() and puts fd 1 back
    ResultStream(const ResultStream &) = delete;
    ResultStream &operator=(const ResultStream &) = delete;

private:
    int m_results = -1; ///< the original standard output (a dup of fd 1)
    std::unique_ptr<std::streambuf> m_buffer;
    std::unique_ptr<std::ostream> m_stream;
};

} // namespace taskbench::cli
