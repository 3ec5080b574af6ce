// Unix-socket transport for the worker protocol (see transport_p.h).
#include "transport_p.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace taskbench::detail {

namespace {

std::string errnoText(const std::string &what, int err)
{
    return what + ": " + std::strerror(err);
}

sockaddr_un unixAddress(const std::string &path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path))
        throw std::runtime_error("unix socket path '" + path + "' is empty or longer than "
                                 + std::to_string(sizeof(addr.sun_path) - 1)
                                 + " bytes; choose a shorter runtime folder");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

std::string unixPath(const std::string &address)
{
    return address.rfind("unix:", 0) == 0 ? address.substr(5) : address;
}

class UnixListener final : public Listener
{
public:
    explicit UnixListener(const std::string &path)
        : m_path(path)
    {
        const sockaddr_un addr = unixAddress(path);
        m_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (m_fd < 0)
            throw std::runtime_error(errnoText("socket()", errno));
        ::unlink(path.c_str());
        // Only this user may connect, whatever the folder's mode (bind honours the umask).
        const mode_t old = ::umask(0177);
        const int rc = ::bind(m_fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr));
        const int err = errno;
        ::umask(old);
        if (rc != 0 || ::listen(m_fd, 16) != 0) {
            const int e = rc != 0 ? err : errno;
            ::close(m_fd);
            throw std::runtime_error(errnoText("cannot listen on " + path, e));
        }
    }
    ~UnixListener() override
    {
        ::close(m_fd);
        ::unlink(m_path.c_str());
    }
    int fd() const override { return m_fd; }
    std::string address() const override { return m_path; }
    std::unique_ptr<Connection> accept() override
    {
        for (;;) {
            const int fd = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) {
                if (errno == EINTR)
                    continue;
                return nullptr;
            }
            ucred cred{};
            socklen_t len = sizeof(cred);
            long pid = 0;
            if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
                pid = cred.pid;
            auto c = std::make_unique<Connection>(fd, "pid " + std::to_string(pid));
            c->setPeerPid(pid);
            return c;
        }
    }

private:
    std::string m_path;
    int m_fd = -1;
};

} // namespace

Connection::Connection(int fd, std::string peer)
    : m_fd(fd)
    , m_peer(std::move(peer))
{}

Connection::~Connection()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

void Connection::setNonBlocking(bool on)
{
    const int flags = ::fcntl(m_fd, F_GETFL);
    if (flags >= 0)
        ::fcntl(m_fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

ssize_t Connection::writeSome(const char *data, std::size_t size)
{
    for (;;) {
        const ssize_t n = ::send(m_fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return -1;
    }
}

bool Connection::writeAll(const char *data, std::size_t size)
{
    while (size > 0) {
        const ssize_t n = ::send(m_fd, data, size, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        size -= std::size_t(n);
    }
    return true;
}

std::unique_ptr<Listener> listenUnix(const std::string &path)
{
    return std::make_unique<UnixListener>(path);
}

std::unique_ptr<Connection> connectTo(const std::string &address)
{
    const std::string path = unixPath(address);
    const sockaddr_un addr = unixAddress(path);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error(errnoText("socket()", errno));
    int rc;
    do {
        rc = ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        const int err = errno;
        ::close(fd);
        throw std::runtime_error(errnoText("cannot connect to " + path, err));
    }
    return std::make_unique<Connection>(fd, path);
}

} // namespace taskbench::detail
