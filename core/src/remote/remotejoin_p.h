// How a remote taskbench-worker joins a scheduler over TCP: the authentication handshake
// of remote/workerauth_p.h (worker side) and the plugin files that come with it. Used by the
// worker process loop (workers/workerprocess.cpp) before it loads any plugin.
#pragma once

#include "wire/transport_p.h"

#include <memory>
#include <string>
#include <vector>

namespace taskbench::detail {

struct RemoteJoin
{
    std::string token; ///< the cluster token (from --token-file)
    std::string name;  ///< --name, shown by the scheduler
    int threads = 1;
    std::uint32_t version; ///< protocol version to announce (tests: another one)
    std::string cacheDir;  ///< where received plugin files are kept, by content hash
};

/// Runs the handshake on a fresh connection; when the scheduler starts TLS, conn is replaced
/// by the plaintext end of the TLS relay (tlsrelay_p.h). Returns the plugin files to load (the
/// scheduler's own path when it exists here with the same content, else a cached or freshly
/// received copy). Throws std::runtime_error when refused, when the scheduler does not
/// prove the token, on malformed messages or a timeout.
std::vector<std::string> joinScheduler(std::unique_ptr<Connection> &conn, const RemoteJoin &join);

} // namespace taskbench::detail
