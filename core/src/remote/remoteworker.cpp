// Remote mode of a process worker: a worker that connected over TCP to the gate
// (remote/workergate.cpp) and passed its handshake becomes a ProcessWorker that spawns
// nothing, talks over the handed-over connection, and is gone when that connection is.
#include "workers/processworker_p.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <sys/eventfd.h>

namespace taskbench::detail {

ProcessWorker::ProcessWorker(int id, std::unique_ptr<RemotePeer> peer, WorkerSink &sink)
    : m_id(id)
    , m_threads(std::max(1, peer->threads))
    , m_sink(sink)
    , m_memoryLimit(0)
    , m_remote(peer->identity)
    , m_remotePid(peer->pid)
    , m_measures(peer->measures)
    , m_peer(std::move(peer))
{
    m_wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!m_wake.valid())
        throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    startIo();
}

void ProcessWorker::remoteLost(const std::string &cause)
{
    // No process here to wait for: the worker is gone when its connection is.
    workerLog()->warn("remote worker {} ({}) lost: {}", m_id, m_remote->address, cause);
    m_conn.reset();
    m_reader.reset();
    processEnded(cause);
}

std::unique_ptr<WorkerBackend>
makeRemoteWorker(int id, std::unique_ptr<RemotePeer> peer, WorkerSink &sink)
{
    return std::make_unique<ProcessWorker>(id, std::move(peer), sink);
}

} // namespace taskbench::detail
