// The TCP door for remote workers (see workergate_p.h and the handshake in workerauth_p.h).
//
// One thread polls the listener and the connections still in their handshake. Each one
// moves through: challenge sent -> auth checked, welcome sent -> want received, plugins
// queued -> protocol Hello received -> handed to the scheduler. Everything it reads is
// capped (kMaxHandshakeFrame) and everything it writes is non-blocking, so a hostile or
// stuck peer costs a slot until its deadline, never the thread.
#include "remote/workergate_p.h"

#include "remote/tlsrelay_p.h"
#include "remote/workerauth_p.h"

#include "taskbench/logging.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace taskbench::detail {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kMaxPending = 64;
/// An authenticated worker gets at least this long to fetch and load its plugins.
constexpr auto kAuthenticatedTimeout = 120s;

std::shared_ptr<spdlog::logger> gateLog()
{
    static const std::shared_ptr<spdlog::logger> logger = log::get("worker");
    return logger;
}

struct Plugin
{
    std::string path;
    std::string name;
    std::string sha256;
    std::string data;
};

int msUntil(Clock::time_point t, Clock::time_point now)
{
    if (t <= now)
        return 0;
    return int(std::min<std::int64_t>(std::chrono::ceil<std::chrono::milliseconds>(t - now).count(),
                                      60'000));
}

} // namespace

class WorkerGate::Impl
{
public:
    Impl(const ClusterOptions &options,
         const std::vector<std::string> &pluginPaths,
         Arrival arrival)
        : m_arrival(std::move(arrival))
        , m_timeout(options.handshakeTimeout)
    {
        m_listener = listenTcp(options.listen);
        std::string host, port;
        splitHostPort(options.listen, &host, &port);
        const bool loopback = !host.empty() && isLoopbackHost(host);
        if (options.tls.value_or(!loopback))
            m_tls = std::make_unique<tls::ServerIdentity>();
        else if (!loopback)
            gateLog()->warn("listening for workers on {} without TLS: tasks and results cross "
                            "the network unencrypted (workers still prove the token without "
                            "sending it)",
                            m_listener->address());
        if (options.tokenFile.empty()) {
            m_tokenFile = auth::defaultTokenPath();
            ::unlink(m_tokenFile.c_str()); // left by a process that had this pid before
            m_token = auth::createTokenFile(m_tokenFile);
            m_temporaryToken = true;
        } else {
            m_tokenFile = options.tokenFile;
            m_token = ::access(m_tokenFile.c_str(), F_OK) == 0 ? auth::readTokenFile(m_tokenFile)
                                                               : auth::createTokenFile(m_tokenFile);
        }
        for (const std::string &path : pluginPaths) {
            std::ifstream in(path, std::ios::binary);
            std::string data((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
            if (!in.good() && !in.eof()) {
                gateLog()->warn("cannot read plugin {}: remote workers will not get it", path);
                continue;
            }
            Plugin p;
            p.path = path;
            p.name = path.substr(path.rfind('/') + 1);
            p.sha256 = auth::sha256Hex(data);
            p.data = std::move(data);
            m_plugins.push_back(std::move(p));
        }
        m_wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m_wake < 0)
            throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
        gateLog()->info("listening for workers on {} ({}, token file {})",
                        m_listener->address(),
                        m_tls ? "TLS" : "no TLS",
                        m_tokenFile);
        m_thread = std::thread([this] { loop(); });
    }

    ~Impl()
    {
        m_stop.store(true);
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t w = ::write(m_wake, &one, sizeof(one));
        m_thread.join();
        ::close(m_wake);
        if (m_temporaryToken)
            ::unlink(m_tokenFile.c_str());
    }

    std::string address() const { return m_listener->address(); }
    std::string tokenFile() const { return m_tokenFile; }

private:
    enum class Stage { Auth, Want, Hello };
    struct Pending
    {
        std::unique_ptr<Connection> conn;
        std::unique_ptr<proto::FrameReader> reader;
        Stage stage = Stage::Auth;
        Clock::time_point deadline;
        std::string nonce;
        std::string out;
        std::size_t outPos = 0;
        bool closing = false; ///< refused: close once the refusal is written (or at once)
        RemoteIdentity identity;
        long pid = 0;
        int threads = 1;
    };

    void loop()
    {
        std::vector<pollfd> fds;
        while (!m_stop.load()) {
            fds.clear();
            fds.push_back({m_wake, POLLIN, 0});
            fds.push_back({m_listener->fd(), POLLIN, 0});
            const auto now = Clock::now();
            int timeout = -1;
            for (const Pending &p : m_pending) {
                short events = POLLIN;
                if (p.outPos < p.out.size())
                    events |= POLLOUT;
                fds.push_back({p.conn->fd(), events, 0});
                const int ms = msUntil(p.deadline, now);
                if (timeout < 0 || ms < timeout)
                    timeout = ms;
            }
            const std::size_t polled = m_pending.size();
            const int n = ::poll(fds.data(), fds.size(), timeout);
            if (m_stop.load())
                break;
            if (n < 0) {
                if (errno != EINTR)
                    std::this_thread::sleep_for(10ms);
                continue;
            }
            if (fds[0].revents) {
                std::uint64_t count;
                [[maybe_unused]] const ssize_t r = ::read(m_wake, &count, sizeof(count));
            }
            // Back to front: handling one may remove it.
            for (std::size_t i = polled; i-- > 0;) {
                const short ev = fds[2 + i].revents;
                if (!ev)
                    continue;
                const bool alive = !(ev & POLLOUT) || flush(i);
                if (alive && (ev & (POLLIN | POLLHUP | POLLERR)))
                    read(i);
            }
            if (fds[1].revents & POLLIN)
                acceptAll();
            expire(Clock::now());
        }
        for (Pending &p : m_pending)
            gateLog()->debug("closing the handshake with {}: the cluster stops", p.conn->peer());
        m_pending.clear();
    }

    void acceptAll()
    {
        while (std::unique_ptr<Connection> c = m_listener->accept()) {
            if (m_pending.size() >= kMaxPending) {
                // Evict the oldest: a crowd of silent strangers must not lock workers out.
                gateLog()->warn("dropped a connection from {}: too many handshakes pending",
                                m_pending.front().conn->peer());
                m_pending.erase(m_pending.begin());
            }
            if (m_tls && !(c = startTls(std::move(c))))
                continue;
            Pending p;
            p.reader = std::make_unique<proto::FrameReader>(auth::kMaxHandshakeFrame);
            p.deadline = Clock::now() + m_timeout;
            p.nonce = auth::randomBytes(auth::kNonceBytes);
            p.identity.address = c->peer();
            p.conn = std::move(c);
            Value::Map challenge;
            challenge["type"] = "challenge";
            challenge["version"] = std::int64_t(proto::kProtocolVersion);
            challenge["nonce"] = auth::bytesValue(p.nonce);
            p.out = auth::encodeFrame(challenge);
            gateLog()->debug("connection from {}: challenge sent", p.identity.address);
            m_pending.push_back(std::move(p));
            flush(m_pending.size() - 1);
        }
    }

    void remove(std::size_t i) { m_pending.erase(m_pending.begin() + std::ptrdiff_t(i)); }

    /// Announces TLS in clear, then hands the socket to a relay: what is returned carries
    /// the plaintext (nullptr when the connection is already gone).
    std::unique_ptr<Connection> startTls(std::unique_ptr<Connection> c)
    {
        Value::Map starttls;
        starttls["type"] = "starttls";
        const std::string frame = auth::encodeFrame(starttls);
        if (c->writeSome(frame.data(), frame.size()) != ssize_t(frame.size())) {
            gateLog()->warn("dropped a worker connection from {}: cannot write", c->peer());
            return nullptr;
        }
        const std::string peer = c->peer();
        try {
            return std::make_unique<Connection>(m_tls->serve(c->release(), peer, m_timeout), peer);
        } catch (const std::exception &e) {
            gateLog()->warn("dropped a worker connection from {}: {}", peer, e.what());
            return nullptr;
        }
    }

    std::string channel() const { return m_tls ? m_tls->fingerprint() : std::string(); }

    /// Logs the refusal, tells the peer why (best effort) and drops it.
    void refuse(std::size_t i, const std::string &why)
    {
        Pending &p = m_pending[i];
        gateLog()->warn("refused a worker connection from {}: {}", p.identity.address, why);
        Value::Map refused;
        refused["type"] = "refused";
        refused["reason"] = why;
        p.out = auth::encodeFrame(refused);
        p.outPos = 0;
        p.closing = true;
        if (flush(i))
            remove(i); // not all written: the peer does not read; closing is all we owe it
    }

    /// Writes what the socket takes. False when the connection was removed (write error,
    /// or a refusal fully written).
    bool flush(std::size_t i)
    {
        Pending &p = m_pending[i];
        while (p.outPos < p.out.size()) {
            const ssize_t n = p.conn->writeSome(p.out.data() + p.outPos, p.out.size() - p.outPos);
            if (n == 0)
                return true;
            if (n < 0) {
                if (!p.closing)
                    gateLog()->warn("dropped a worker connection from {} during the handshake: {}",
                                    p.identity.address,
                                    std::strerror(errno));
                remove(i);
                return false;
            }
            p.outPos += std::size_t(n);
        }
        p.out.clear();
        p.outPos = 0;
        if (p.closing) {
            remove(i);
            return false;
        }
        return true;
    }

    void read(std::size_t i)
    {
        Pending &p = m_pending[i];
        int err = 0;
        const auto st = p.reader->readFrom(p.conn->fd(), &err, 64 * 1024);
        if (st == proto::FrameReader::ReadStatus::WouldBlock)
            return;
        std::string_view payload;
        std::string error;
        for (;;) {
            const auto next = m_pending[i].reader->next(&payload, &error);
            if (next == proto::FrameReader::Next::Error)
                return refuse(i, "not a Taskbench worker (" + error + ")");
            if (next == proto::FrameReader::Next::NeedMore)
                break;
            if (!handleFrame(i, payload))
                return; // removed or handed over
        }
        if (st == proto::FrameReader::ReadStatus::Closed
            || st == proto::FrameReader::ReadStatus::Error) {
            gateLog()->warn("a worker connection from {} ended during the handshake{}",
                            m_pending[i].identity.address,
                            st == proto::FrameReader::ReadStatus::Error
                                ? std::string(": ") + std::strerror(err)
                                : std::string());
            remove(i);
        }
    }

    /// False when the connection left m_pending.
    bool handleFrame(std::size_t i, std::string_view payload)
    {
        Pending &p = m_pending[i];
        if (p.stage == Stage::Hello) {
            std::string error;
            std::optional<proto::Message> m = proto::decodeMessage(payload, &error);
            auto *hello = m ? std::get_if<proto::Hello>(&*m) : nullptr;
            if (!hello) {
                refuse(i,
                       m ? std::string("expected its hello, got ") + proto::messageTypeName(*m)
                         : "malformed hello: " + error);
                return false;
            }
            if (const std::string bad = proto::checkHello(*hello); !bad.empty()) {
                refuse(i, bad);
                return false;
            }
            auto peer = std::make_unique<RemotePeer>();
            peer->conn = std::move(p.conn);
            peer->reader = std::move(p.reader);
            peer->identity = p.identity;
            peer->pid = p.pid;
            peer->threads = p.threads;
            peer->measures = hello->measures;
            gateLog()->info("remote worker {} ({}@{}, {} threads) joined",
                            peer->identity.address,
                            peer->identity.label,
                            peer->identity.host,
                            peer->threads);
            remove(i);
            m_arrival(std::move(peer));
            return false;
        }
        std::string error;
        std::optional<Value::Map> m = auth::decodePayload(payload, &error);
        if (!m) {
            refuse(i, "not a Taskbench worker (" + error + ")");
            return false;
        }
        const std::string type = *auth::stringField(*m, "type");
        if (p.stage == Stage::Auth) {
            if (type != "auth") {
                refuse(i, "expected an auth message, got \"" + type + "\"");
                return false;
            }
            const auto version = auth::intField(*m, "version");
            if (!version || *version != std::int64_t(proto::kProtocolVersion)) {
                refuse(i,
                       "protocol version mismatch: the worker speaks version "
                           + (version ? std::to_string(*version) : std::string("?"))
                           + ", this scheduler speaks version "
                           + std::to_string(proto::kProtocolVersion));
                return false;
            }
            const auto nonce = auth::bytesField(*m, "nonce");
            const auto mac = auth::bytesField(*m, "mac");
            if (!nonce || nonce->size() != auth::kNonceBytes || !mac
                || !auth::equalConstantTime(
                    *mac, auth::proof(m_token, "worker", p.nonce, *nonce, channel()))) {
                refuse(i, "wrong token (authentication failed)");
                return false;
            }
            p.threads
                = int(std::clamp<std::int64_t>(auth::intField(*m, "threads").value_or(1), 1, 4096));
            p.pid = long(auth::intField(*m, "pid").value_or(0));
            p.identity.label = auth::stringField(*m, "name").value_or("").substr(0, 200);
            p.identity.host = auth::stringField(*m, "host").value_or("").substr(0, 200);
            Value::Map welcome;
            welcome["type"] = "welcome";
            welcome["mac"]
                = auth::bytesValue(auth::proof(m_token, "scheduler", p.nonce, *nonce, channel()));
            Value::List plugins;
            for (const Plugin &pl : m_plugins) {
                Value::Map entry;
                entry["name"] = pl.name;
                entry["path"] = pl.path;
                entry["sha256"] = pl.sha256;
                entry["size"] = std::int64_t(pl.data.size());
                plugins.push_back(Value(std::move(entry)));
            }
            welcome["plugins"] = Value(std::move(plugins));
            p.out += auth::encodeFrame(welcome);
            p.stage = Stage::Want;
            p.deadline = Clock::now() + std::max<Duration>(m_timeout, kAuthenticatedTimeout);
            return flush(i);
        }
        // Stage::Want
        if (type != "want") {
            refuse(i, "expected a want message, got \"" + type + "\"");
            return false;
        }
        auto it = m->find("sha256");
        if (it == m->end() || !it->second.isList()) {
            refuse(i, "malformed want message");
            return false;
        }
        for (const Value &h : it->second.toList()) {
            const auto plugin
                = std::find_if(m_plugins.begin(), m_plugins.end(), [&](const Plugin &pl) {
                      return h.isString() && pl.sha256 == h.toString();
                  });
            if (plugin == m_plugins.end()) {
                refuse(i, "asked for a plugin this scheduler does not offer");
                return false;
            }
            Value::Map msg;
            msg["type"] = "plugin";
            msg["sha256"] = plugin->sha256;
            msg["data"] = auth::bytesValue(plugin->data);
            p.out += auth::encodeFrame(msg);
            gateLog()->debug("shipping plugin {} to {}", plugin->name, p.identity.address);
        }
        p.stage = Stage::Hello;
        return flush(i);
    }

    void expire(Clock::time_point now)
    {
        for (std::size_t i = m_pending.size(); i-- > 0;)
            if (now >= m_pending[i].deadline) {
                gateLog()->warn("dropped a worker connection from {}: no complete handshake "
                                "within {} ms",
                                m_pending[i].identity.address,
                                std::chrono::duration_cast<std::chrono::milliseconds>(
                                    m_pending[i].stage == Stage::Auth
                                        ? m_timeout
                                        : std::max<Duration>(m_timeout, kAuthenticatedTimeout))
                                    .count());
                remove(i);
            }
    }

    Arrival m_arrival;
    const Duration m_timeout;
    std::unique_ptr<Listener> m_listener;
    std::string m_tokenFile;
    std::string m_token;
    bool m_temporaryToken = false;
    std::vector<Plugin> m_plugins;
    std::unique_ptr<tls::ServerIdentity> m_tls;
    int m_wake = -1;
    std::atomic<bool> m_stop{false};
    std::vector<Pending> m_pending;
    std::thread m_thread;
};

WorkerGate::WorkerGate(const ClusterOptions &options,
                       const std::vector<std::string> &pluginPaths,
                       Arrival arrival)
    : m_impl(std::make_unique<Impl>(options, pluginPaths, std::move(arrival)))
{}

WorkerGate::~WorkerGate() = default;

std::string WorkerGate::address() const
{
    return m_impl->address();
}

std::string WorkerGate::tokenFile() const
{
    return m_impl->tokenFile();
}

} // namespace taskbench::detail
