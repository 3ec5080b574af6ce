// The door for remote workers: a TCP listener with its own thread that takes connections,
// runs the authentication handshake (workerauth_p.h) and the plugin shipping, and hands each
// worker that passed to the scheduler as a RemotePeer, which becomes a worker of the cluster
// (makeRemoteWorker). Strangers never reach the scheduler: a wrong token, another protocol
// version, garbage or silence ends in a logged refusal naming the peer's address.
#pragma once

#include "wire/protocol_p.h"
#include "wire/transport_p.h"
#include "workers/workerbackend_p.h"

#include "taskbench/client.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace taskbench::detail {

/// A remote worker that passed the handshake and waits for its scheduler Hello.
struct RemotePeer
{
    std::unique_ptr<Connection> conn;
    std::unique_ptr<proto::FrameReader> reader; ///< may hold bytes read past the handshake
    RemoteIdentity identity;
    long pid = 0; ///< on its own host
    int threads = 1;
    bool measures = false; ///< its Hello's: it measures attempts
};

class WorkerGate
{
public:
    /// Called on the gate's thread for each worker that got in.
    using Arrival = std::function<void(std::unique_ptr<RemotePeer>)>;

    /// Listens on options.listen, sets up the token (options.tokenFile, see client.h) and
    /// hashes the plugins to offer. Throws std::runtime_error when it cannot listen or the
    /// token file is unusable.
    WorkerGate(const ClusterOptions &options,
               const std::vector<std::string> &pluginPaths,
               Arrival arrival);
    ~WorkerGate(); ///< refuses what is still in the handshake; removes a temporary token file
    WorkerGate(const WorkerGate &) = delete;
    WorkerGate &operator=(const WorkerGate &) = delete;

    /// "tcp://HOST:PORT" with the port actually bound.
    std::string address() const;
    std::string tokenFile() const;

private:
    class Impl;
    std::unique_ptr<Impl> m_impl;
};

/// A worker of the cluster talking to a remote worker process over its connection. When
/// the connection is lost it reports died() and stays dead: remote workers are not
/// restarted (WorkerBackend::remoteIdentity() tells the scheduler to remove it).
std::unique_ptr<WorkerBackend>
makeRemoteWorker(int id, std::unique_ptr<RemotePeer> peer, WorkerSink &sink);

} // namespace taskbench::detail
