// TLS for remote workers, kept out of the protocol paths: a TLS connection is terminated by
// a relay thread that pumps the plaintext to a local socketpair, and everything above
// (handshake, FrameReader, batched writes) talks to the other end of that pair exactly as it
// would to a plain TCP socket. Only TLS connections pay the extra hop.
//
// The scheduler uses a fresh self-signed certificate per cluster. The worker does not check
// it against any authority: instead both sides bind the authentication proofs to the SHA-256
// fingerprint of that certificate (workerauth_p.h), so a man in the middle, who must present
// its own certificate, makes the proofs disagree and the worker is refused.
//
// Uses OpenSSL (libssl) directly: TLS 1.2 or newer.
#pragma once

#include "taskbench/client.h"

#include <memory>
#include <string>

namespace taskbench::detail::tls {

/// The scheduler's TLS identity: an ephemeral P-256 key and self-signed certificate.
class ServerIdentity
{
public:
    ServerIdentity(); ///< throws std::runtime_error
    ~ServerIdentity();
    ServerIdentity(const ServerIdentity &) = delete;
    ServerIdentity &operator=(const ServerIdentity &) = delete;

    /// SHA-256 of the certificate (DER), 32 raw bytes.
    const std::string &fingerprint() const { return m_fingerprint; }

    /// Takes ownership of tcpFd (an accepted connection) and returns the local end of a
    /// socketpair (non-blocking, close-on-exec) that carries its plaintext. A detached relay
    /// thread runs the TLS handshake (at most `timeout`) and then pumps until either side
    /// closes. Throws std::runtime_error when the pair cannot be created.
    int serve(int tcpFd, const std::string &peer, Duration timeout);

private:
    struct Context;
    std::shared_ptr<Context> m_context;
    std::string m_fingerprint;
};

/// Worker side: takes ownership of tcpFd (connected), runs the TLS handshake (at most
/// `timeout`), stores the server certificate's fingerprint in *fingerprint and returns the
/// local end of a socketpair (blocking, close-on-exec) carrying the plaintext; a detached
/// relay thread pumps. Throws std::runtime_error when the handshake fails.
int connect(int tcpFd, Duration timeout, std::string *fingerprint);

} // namespace taskbench::detail::tls
