// Unix-socket and TCP transport for the worker protocol (see transport_p.h).
#include "wire/transport_p.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

/// "1.2.3.4:5678" / "[::1]:5678" of a socket address.
std::string describeAddress(const sockaddr_storage &ss)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss.ss_family == AF_INET) {
        const auto *a = reinterpret_cast<const sockaddr_in *>(&ss);
        ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
        return std::string(host) + ":" + std::to_string(port);
    }
    if (ss.ss_family == AF_INET6) {
        const auto *a = reinterpret_cast<const sockaddr_in6 *>(&ss);
        ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        return "[" + std::string(host) + "]:" + std::to_string(port);
    }
    return "?";
}

/// Nagle off (the protocol batches itself); keepalive probes so that a node that vanished
/// without closing its connection (power loss, network partition) is noticed in about a
/// minute and its worker counted lost.
void tuneTcp(int fd)
{
    const int one = 1, idle = 30, interval = 10, count = 3;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

struct AddrInfoList
{
    addrinfo *list = nullptr;
    ~AddrInfoList()
    {
        if (list)
            ::freeaddrinfo(list);
    }
};

void resolve(const std::string &address, bool passive, AddrInfoList &out)
{
    std::string host, port;
    if (!splitHostPort(address, &host, &port))
        throw std::runtime_error("'" + address + "' is not a HOST:PORT address");
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    const int rc
        = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &out.list);
    if (rc != 0)
        throw std::runtime_error("cannot resolve '" + address + "': " + ::gai_strerror(rc));
}

class TcpListener final : public Listener
{
public:
    explicit TcpListener(const std::string &hostPort)
    {
        AddrInfoList ai;
        resolve(hostPort, true, ai);
        int lastErr = 0;
        for (addrinfo *p = ai.list; p; p = p->ai_next) {
            const int fd = ::socket(
                p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, p->ai_protocol);
            if (fd < 0) {
                lastErr = errno;
                continue;
            }
            const int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (::bind(fd, p->ai_addr, p->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
                m_fd = fd;
                break;
            }
            lastErr = errno;
            ::close(fd);
        }
        if (m_fd < 0)
            throw std::runtime_error(errnoText("cannot listen on " + hostPort, lastErr));
        sockaddr_storage ss{};
        socklen_t len = sizeof(ss);
        ::getsockname(m_fd, reinterpret_cast<sockaddr *>(&ss), &len);
        // What workers elsewhere can dial: a host name as given (not what it resolved to:
        // Debian maps the own name to 127.0.1.1), this machine's name for a wildcard, the
        // bound address otherwise; always with the port actually bound.
        const std::string bound = describeAddress(ss);
        const std::string port = bound.substr(bound.rfind(':') + 1);
        std::string host, unused;
        splitHostPort(hostPort, &host, &unused);
        in6_addr numeric{};
        if (host.empty() || host == "0.0.0.0" || host == "::") {
            char name[256] = {};
            ::gethostname(name, sizeof(name) - 1);
            m_address = "tcp://" + std::string(name[0] ? name : "localhost") + ":" + port;
        } else if (::inet_pton(AF_INET, host.c_str(), &numeric) != 1
                   && ::inet_pton(AF_INET6, host.c_str(), &numeric) != 1) {
            m_address = "tcp://" + host + ":" + port;
        } else {
            m_address = "tcp://" + bound;
        }
    }
    ~TcpListener() override { ::close(m_fd); }
    int fd() const override { return m_fd; }
    std::string address() const override { return m_address; }
    std::unique_ptr<Connection> accept() override
    {
        for (;;) {
            sockaddr_storage ss{};
            socklen_t len = sizeof(ss);
            const int fd = ::accept4(
                m_fd, reinterpret_cast<sockaddr *>(&ss), &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED)
                    continue;
                return nullptr;
            }
            tuneTcp(fd);
            return std::make_unique<Connection>(fd, describeAddress(ss));
        }
    }

private:
    int m_fd = -1;
    std::string m_address;
};

std::unique_ptr<Connection> connectTcp(const std::string &address)
{
    AddrInfoList ai;
    resolve(address, false, ai);
    int lastErr = 0;
    for (addrinfo *p = ai.list; p; p = p->ai_next) {
        const int fd = ::socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0) {
            lastErr = errno;
            continue;
        }
        int rc;
        do {
            rc = ::connect(fd, p->ai_addr, p->ai_addrlen);
        } while (rc != 0 && errno == EINTR);
        if (rc == 0) {
            tuneTcp(fd);
            sockaddr_storage ss{};
            std::memcpy(&ss, p->ai_addr, std::min<std::size_t>(p->ai_addrlen, sizeof(ss)));
            return std::make_unique<Connection>(fd, describeAddress(ss));
        }
        lastErr = errno;
        ::close(fd);
    }
    throw std::runtime_error(errnoText("cannot connect to " + address, lastErr));
}

} // namespace

bool splitHostPort(const std::string &address, std::string *host, std::string *port)
{
    std::string a = address.rfind("tcp://", 0) == 0 ? address.substr(6) : address;
    std::string h, p;
    if (!a.empty() && a.front() == '[') {
        const auto close = a.find(']');
        if (close == std::string::npos || close + 1 >= a.size() || a[close + 1] != ':')
            return false;
        h = a.substr(1, close - 1);
        p = a.substr(close + 2);
    } else {
        const auto colon = a.rfind(':');
        if (colon == std::string::npos || a.find(':') != colon)
            return false;
        h = a.substr(0, colon);
        p = a.substr(colon + 1);
    }
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos
        || std::stoul(p) > 65535)
        return false;
    *host = h;
    *port = p;
    return true;
}

bool isLoopbackHost(const std::string &host)
{
    if (host == "localhost" || host == "::1")
        return true;
    in_addr a{};
    return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

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

std::unique_ptr<Listener> listenTcp(const std::string &hostPort)
{
    return std::make_unique<TcpListener>(hostPort);
}

std::unique_ptr<Connection> connectTo(const std::string &address)
{
    if (address.rfind("tcp://", 0) == 0)
        return connectTcp(address);
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
