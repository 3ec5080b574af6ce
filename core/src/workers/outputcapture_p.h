// What tasks print in a worker process, captured per task: fd 1 and 2 point at a memfd (the
// one the scheduler passes as --output-fd, so that it can show what a dead worker printed
// last, or one of our own), and each task's completion carries what was appended while it
// ran. With one thread this is exact; with several, output of tasks running at the same time
// may end up in each other's records.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>

#include <sys/types.h>

namespace taskbench::detail {

class OutputCapture
{
public:
    /// Output kept per task (the tail; the head is elided with a note).
    static constexpr std::size_t kMaxOutput = std::size_t(1) << 20;
    /// The capture file is emptied when no task runs and it has grown past this.
    static constexpr off_t kTruncateOutputAt = off_t(1) << 20;

    /// Captures into fd (the file the scheduler handed over), or into a memfd of our own.
    bool init(int given, std::string *error);
    bool active() const { return m_fd >= 0; }

    /// A task starts: returns the mark to pass to end().
    off_t begin();
    /// The task ended: what was written since the mark (its tail when longer than kMaxOutput).
    std::string end(off_t start);

private:
    off_t size() const;

    int m_fd = -1;
    std::mutex m_mutex;
    int m_running = 0;
};

} // namespace taskbench::detail
