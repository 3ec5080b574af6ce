// The byte-stream transport under the worker protocol: a listener the scheduler side owns and
// the connections that come out of it (or that a worker opens). Everything above this file
// sees file descriptors to poll and bytes to read and write, so a TCP listener for workers on
// other machines fits in later by adding another Listener and another address scheme.
//
// Addresses: "unix:<path>" or a bare path (a unix socket), or "tcp://HOST:PORT" (remote
// workers; HOST may be a name, an IPv4 address or a bracketed IPv6 address). Every
// descriptor is created close-on-exec; listener and accepted connections are non-blocking;
// TCP connections have Nagle's algorithm off (the protocol batches frames itself).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>

namespace taskbench::detail {

class Connection
{
public:
    /// Takes ownership of fd.
    Connection(int fd, std::string peer);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    int fd() const { return m_fd; }
    /// "pid 1234" (unix, from the kernel's peer credentials) or "host:port".
    const std::string &peer() const { return m_peer; }
    /// Process id of the peer when the transport knows it (unix sockets), else 0.
    long peerPid() const { return m_peerPid; }
    void setPeerPid(long pid) { m_peerPid = pid; }
    void setNonBlocking(bool on);
    /// Gives up ownership of the descriptor (a TLS relay takes it over) and returns it.
    int release() { return std::exchange(m_fd, -1); }

    /// Writes what the socket takes now. Returns the bytes written (0: would block), or -1
    /// with errno set. Never raises SIGPIPE.
    ssize_t writeSome(const char *data, std::size_t size);
    /// Writes everything, blocking as needed (for a blocking connection). False on error.
    bool writeAll(const char *data, std::size_t size);

private:
    int m_fd;
    std::string m_peer;
    long m_peerPid = 0;
};

class Listener
{
public:
    virtual ~Listener() = default;
    virtual int fd() const = 0;
    /// What a worker passes to connectTo() (taskbench-worker --connect <address>).
    virtual std::string address() const = 0;
    /// One pending connection (non-blocking, close-on-exec), or nullptr when none is pending.
    virtual std::unique_ptr<Connection> accept() = 0;
};

/// Listens on a unix socket at path (mode 0600; an old socket file there is replaced).
/// Throws std::runtime_error (path too long, bind failure...). The file is removed when the
/// listener is destroyed.
std::unique_ptr<Listener> listenUnix(const std::string &path);

/// Listens on "HOST:PORT" (or "tcp://HOST:PORT"); port 0 picks a free port (see address()).
/// Throws std::runtime_error (bad address, bind failure...).
std::unique_ptr<Listener> listenTcp(const std::string &hostPort);

/// Splits "HOST:PORT" / "[V6]:PORT" (an optional "tcp://" in front). False when malformed.
bool splitHostPort(const std::string &address, std::string *host, std::string *port);

/// True for addresses that stay on this machine (127.0.0.0/8, ::1, "localhost").
bool isLoopbackHost(const std::string &host);

/// Connects to an address (blocking connection). Throws std::runtime_error.
std::unique_ptr<Connection> connectTo(const std::string &address);

} // namespace taskbench::detail
