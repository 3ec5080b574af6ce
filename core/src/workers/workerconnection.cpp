// The connection of a process worker (see workers/processworker_p.h): accepting the
// child's connection on the worker's Unix socket, checking its Hello (token, version) while
// strangers are capped and timed out, then reading, decoding and dispatching its frames and
// writing the queued ones without ever blocking on a full socket.
#include "workers/processworker_p.h"

#include <cerrno>
#include <cstring>

namespace taskbench::detail {

std::string ProcessWorker::helloFrame() const
{
    proto::Hello h;
    h.pid = ::getpid();
    h.worker = m_id;
    h.threads = m_threads;
    return proto::encodeFrame(h);
}

void ProcessWorker::acceptAll()
{
    while (std::unique_ptr<Connection> c = m_listener->accept()) {
        if (m_candidates.size() >= kMaxCandidates) {
            // Evict the oldest: silent strangers must not keep the real worker out.
            workerLog()->warn("worker {}: dropped a connection from {}: too many pending",
                              m_id,
                              m_candidates.front().conn->peer());
            m_candidates.erase(m_candidates.begin());
        }
        Candidate cand;
        cand.reader = std::make_unique<proto::FrameReader>(64 * 1024); // a Hello is small
        cand.deadline = Clock::now() + kCandidateTimeout;
        cand.conn = std::move(c);
        m_candidates.push_back(std::move(cand));
    }
}

void ProcessWorker::handleCandidate(std::size_t index)
{
    Candidate &c = m_candidates[index];
    auto reject = [&](const std::string &why) {
        workerLog()->warn("worker {}: rejected a connection to {} from {}: {}",
                          m_id,
                          m_listener->address(),
                          c.conn->peer(),
                          why);
        m_candidates.erase(m_candidates.begin() + std::ptrdiff_t(index));
    };
    int err = 0;
    const auto st = c.reader->readFrom(c.conn->fd(), &err, 4096);
    if (st == proto::FrameReader::ReadStatus::WouldBlock)
        return;
    std::string_view payload;
    std::string error;
    const auto next = c.reader->next(&payload, &error);
    if (next == proto::FrameReader::Next::Error)
        return reject(error);
    if (next == proto::FrameReader::Next::NeedMore) {
        if (st == proto::FrameReader::ReadStatus::Closed
            || st == proto::FrameReader::ReadStatus::Error)
            return reject("closed before its handshake");
        return;
    }
    std::optional<proto::Message> m = proto::decodeMessage(payload, &error);
    if (!m)
        return reject("malformed handshake: " + error);
    auto *hello = std::get_if<proto::Hello>(&*m);
    if (!hello)
        return reject(std::string("expected a hello, got ") + proto::messageTypeName(*m));
    if (hello->token != m_token)
        return reject("wrong handshake token");
    if (const std::string bad = proto::checkHello(*hello); !bad.empty()) {
        workerLog()->error("worker {}: {}", m_id, bad);
        m_candidates.erase(m_candidates.begin() + std::ptrdiff_t(index));
        killProcess(bad);
        return;
    }
    if (m_state != State::Starting)
        return reject("a worker is already connected");
    if (hello->pid != m_child)
        workerLog()->warn("worker {}: the process that connected is pid {}, not {} (a wrapper?)",
                          m_id,
                          hello->pid,
                          m_child);
    m_measures = hello->measures;
    m_lastPeakRss = -1; // a new process
    Candidate promoted = std::move(c);
    m_candidates.erase(m_candidates.begin() + std::ptrdiff_t(index));
    promote(promoted);
}

void ProcessWorker::promote(Candidate &c)
{
    m_conn = std::move(c.conn);
    m_reader = std::move(c.reader);
    m_reader->setMaxFrame(proto::kMaxFrameBytes); // strangers were capped; the worker is not
    m_state = State::Connected;
    m_everConnected = true;
    workerLog()->debug("worker {}: process {} connected", m_id, m_child);
    processFrames();
    flushOut();
}

void ProcessWorker::readConnection()
{
    for (int rounds = 0; rounds < 64 && m_conn; ++rounds) {
        int err = 0;
        const auto st = m_reader->readFrom(m_conn->fd(), &err);
        if (st == proto::FrameReader::ReadStatus::WouldBlock)
            return;
        if (st == proto::FrameReader::ReadStatus::Data) {
            processFrames();
            continue;
        }
        processFrames();
        connectionLost(st == proto::FrameReader::ReadStatus::Closed
                           ? std::string("closed its connection")
                           : std::string("connection error: ") + std::strerror(err));
        return;
    }
}

void ProcessWorker::processFrames()
{
    std::string_view payload;
    std::string error;
    while (m_reader && m_conn) {
        const auto next = m_reader->next(&payload, &error);
        if (next == proto::FrameReader::Next::NeedMore)
            return;
        if (next == proto::FrameReader::Next::Error)
            return protocolError(error);
        std::optional<proto::Message> m = proto::decodeMessage(payload, &error);
        if (!m)
            return protocolError(error);
        handleMessage(*m);
    }
}

void ProcessWorker::completeUsage(Completion &c)
{
    if (!m_measures)
        return; // unknown stays unknown
    if (c.usage.peakRssBytes >= 0 || c.usage.cpuUs >= 0) {
        if (c.usage.peakRssBytes >= 0)
            m_lastPeakRss = c.usage.peakRssBytes;
        return;
    }
    if (!c.started || c.errorType == proto::kMissingDataError)
        return; // never ran
    // A quick attempt (AttemptMeter::kQuickUs): the worker sent no figures, they are these.
    c.usage.cpuUs = std::max<std::int64_t>(0, c.endUs - c.startUs);
    c.usage.peakRssBytes = m_lastPeakRss;
}

void ProcessWorker::handleMessage(proto::Message &m)
{
    if (auto *c = std::get_if<proto::Completed>(&m)) {
        for (Completion &item : c->items) {
            completeUsage(item);
            auto [first, last] = m_inflight.equal_range(item.task);
            for (auto it = first; it != last; ++it)
                if (it->second == item.attempt) {
                    m_inflight.erase(it);
                    break;
                }
        }
        if (!c->items.empty())
            m_sink.completed(m_id, std::move(c->items));
    } else if (auto *l = std::get_if<proto::LogLine>(&m)) {
        m_sink.logLine(l->task, m_id, std::move(l->line));
    } else if (auto *p = std::get_if<proto::Progress>(&m)) {
        m_sink.progress(p->task, m_id, p->fraction, std::move(p->text));
    } else if (auto *f = std::get_if<proto::Fetched>(&m)) {
        for (proto::FetchedItem &item : f->items) {
            auto it = m_pendingFetches.find(item.task);
            if (it != m_pendingFetches.end() && --it->second == 0)
                m_pendingFetches.erase(it);
            m_sink.fetched(m_id, item.task, std::move(item.value), std::move(item.error));
        }
    } else if (auto *d = std::get_if<proto::Drained>(&m)) {
        std::vector<Completion> back;
        for (std::uint64_t task : d->tasks) {
            auto it = m_inflight.find(task);
            if (it == m_inflight.end())
                continue;
            Completion c;
            c.task = task;
            c.attempt = it->second;
            c.started = false;
            back.push_back(std::move(c));
            m_inflight.erase(it);
        }
        if (!back.empty())
            m_sink.completed(m_id, std::move(back));
    } else {
        protocolError(std::string("unexpected message \"") + proto::messageTypeName(m)
                      + "\" from the worker");
    }
}

void ProcessWorker::flushOut()
{
    if (m_state != State::Connected || !m_conn)
        return;
    while (m_outPos < m_out.size()) {
        const ssize_t n = m_conn->writeSome(m_out.data() + m_outPos, m_out.size() - m_outPos);
        if (n == 0)
            break; // the socket is full: POLLOUT resumes
        if (n < 0) {
            connectionLost(std::string("write failed: ") + std::strerror(errno));
            return;
        }
        m_outPos += std::size_t(n);
    }
    if (m_outPos == m_out.size()) {
        m_outPos = 0;
        if (m_out.capacity() > (std::size_t(16) << 20))
            std::string().swap(m_out); // a large transfer went out: give the memory back
        else
            m_out.clear();
    } else if (m_outPos > (std::size_t(1) << 20) && m_outPos > m_out.size() / 2) {
        m_out.erase(0, m_outPos);
        m_outPos = 0;
    }
}

void ProcessWorker::connectionLost(const std::string &reason)
{
    workerLog()->debug("worker {}: {}", m_id, reason);
    if (m_remote)
        return remoteLost("connection to " + m_remote->address + " lost: " + reason);
    m_conn.reset();
    m_reader.reset();
    if (m_state == State::Starting || m_state == State::Connected) {
        m_state = State::Exiting;
        m_deadline = Clock::now() + kExitGrace;
        if (m_killCause.empty())
            m_lastCause = reason; // used only if the process then lingers
    }
}

void ProcessWorker::protocolError(const std::string &what)
{
    workerLog()->error(
        "worker {} (pid {}) sent a malformed frame: {}; killing it", m_id, m_child, what);
    killProcess("protocol error: " + what);
    m_conn.reset();
    m_reader.reset();
}

} // namespace taskbench::detail
