// The per-task output capture of a worker process (see outputcapture_p.h).
#include "workers/outputcapture_p.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace taskbench::detail {

bool OutputCapture::init(int given, std::string *error)
{
    const int fd = given >= 0 ? given : ::memfd_create("taskbench-task-output", MFD_CLOEXEC);
    if (given >= 0)
        ::fcntl(fd, F_SETFD, FD_CLOEXEC); // tasks that spawn programs must not inherit it
    if (fd < 0) {
        *error = std::string("memfd_create: ") + std::strerror(errno);
        return false;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    if (::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) {
        *error = std::string("dup2: ") + std::strerror(errno);
        ::close(fd);
        return false;
    }
    m_fd = fd;
    return true;
}

off_t OutputCapture::begin()
{
    if (m_fd < 0)
        return 0;
    std::lock_guard lock(m_mutex);
    ++m_running;
    std::fflush(stdout);
    std::fflush(stderr);
    return size();
}

std::string OutputCapture::end(off_t start)
{
    if (m_fd < 0)
        return {};
    std::fflush(stdout);
    std::fflush(stderr);
    const off_t stop = size();
    std::string out;
    if (stop > start) {
        const std::size_t total = std::size_t(stop - start);
        off_t from = start;
        if (total > kMaxOutput) {
            out = "[... " + std::to_string(total - kMaxOutput)
                  + " bytes of earlier output elided ...]\n";
            from = stop - off_t(kMaxOutput);
        }
        const std::size_t prefix = out.size();
        out.resize(prefix + std::size_t(stop - from));
        std::size_t got = 0;
        while (got < std::size_t(stop - from)) {
            const ssize_t n = ::pread(
                m_fd, out.data() + prefix + got, std::size_t(stop - from) - got, from + off_t(got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += std::size_t(n);
        }
        out.resize(prefix + got);
    }
    std::lock_guard lock(m_mutex);
    if (--m_running == 0 && stop > kTruncateOutputAt) {
        // Nobody is between begin() and end(): start the file over. fd 1 and 2 share the
        // memfd's file offset, so one lseek moves both.
        if (::ftruncate(m_fd, 0) == 0)
            ::lseek(m_fd, 0, SEEK_SET);
    }
    return out;
}

off_t OutputCapture::size() const
{
    struct stat st;
    return ::fstat(m_fd, &st) == 0 ? st.st_size : 0;
}

} // namespace taskbench::detail
