// TLS relays for remote workers (see tlsrelay_p.h).
#include "remote/tlsrelay_p.h"

#include "taskbench/logging.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace taskbench::detail::tls {

namespace {

/// OpenSSL writes to the socket with write(), not send(MSG_NOSIGNAL): a peer that closed
/// first would raise SIGPIPE and kill the whole process (the scheduler's). Blocked in the
/// relay's own thread, the signal stays pending there and the write fails with EPIPE.
void blockSigpipeInThisThread()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

/// Plaintext buffered per direction before the relay stops reading that side.
constexpr std::size_t kMaxBuffered = std::size_t(8) << 20;

std::string sslError()
{
    const unsigned long e = ERR_get_error();
    if (e == 0)
        return errno ? std::strerror(errno) : "connection closed";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return buf;
}

void setNonBlocking(int fd, bool on)
{
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0)
        ::fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

/// Blocking I/O with a deadline for the TLS handshake (0: no timeout).
void setTimeouts(int fd, Duration timeout)
{
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
    timeval tv{};
    tv.tv_sec = time_t(us / 1'000'000);
    tv.tv_usec = suseconds_t(us % 1'000'000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

std::string fingerprintOf(X509 *cert)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!cert || X509_digest(cert, EVP_sha256(), md, &n) != 1)
        return {};
    return std::string(reinterpret_cast<const char *>(md), n);
}

struct SslDeleter
{
    void operator()(SSL *s) const { SSL_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

/// Pumps plaintext between the pair end and the TLS connection until one side ends.
/// Owns both descriptors.
void pump(SslPtr ssl, int net, int plain)
{
    setNonBlocking(net, true);
    setNonBlocking(plain, true);
    std::string toNet, toPlain;
    bool netDone = false, plainDone = false, writeWantsRead = false, writeWantsWrite = false;
    char buf[64 * 1024];
    for (;;) {
        // TLS -> plaintext.
        while (!netDone && toPlain.size() < kMaxBuffered) {
            const int n = SSL_read(ssl.get(), buf, int(sizeof(buf)));
            if (n > 0) {
                toPlain.append(buf, std::size_t(n));
                continue;
            }
            const int e = SSL_get_error(ssl.get(), n);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                netDone = true;
            break;
        }
        while (!toPlain.empty()) {
            const ssize_t w = ::send(plain, toPlain.data(), toPlain.size(), MSG_NOSIGNAL);
            if (w > 0) {
                toPlain.erase(0, std::size_t(w));
                continue;
            }
            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            toPlain.clear(); // the local side is gone
            plainDone = true;
            netDone = true;
        }
        // Plaintext -> TLS.
        while (!plainDone && toNet.size() < kMaxBuffered) {
            const ssize_t r = ::recv(plain, buf, sizeof(buf), 0);
            if (r > 0) {
                toNet.append(buf, std::size_t(r));
                continue;
            }
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            plainDone = true;
        }
        writeWantsRead = writeWantsWrite = false;
        while (!toNet.empty() && !netDone) {
            const int n = SSL_write(
                ssl.get(), toNet.data(), int(std::min<std::size_t>(toNet.size(), 1 << 20)));
            if (n > 0) {
                toNet.erase(0, std::size_t(n));
                continue;
            }
            const int e = SSL_get_error(ssl.get(), n);
            if (e == SSL_ERROR_WANT_WRITE)
                writeWantsWrite = true;
            else if (e == SSL_ERROR_WANT_READ)
                writeWantsRead = true;
            else
                netDone = true;
            break;
        }
        if (netDone && toPlain.empty())
            break;
        if (plainDone && (toNet.empty() || netDone)) {
            SSL_shutdown(ssl.get());
            break;
        }
        pollfd fds[2] = {{net, 0, 0}, {plain, 0, 0}};
        if ((toPlain.size() < kMaxBuffered && !netDone) || writeWantsRead)
            fds[0].events |= POLLIN;
        if (writeWantsWrite)
            fds[0].events |= POLLOUT;
        if (!plainDone && toNet.size() < kMaxBuffered)
            fds[1].events |= POLLIN;
        if (!toPlain.empty())
            fds[1].events |= POLLOUT;
        if (::poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
    }
    ::close(net);
    ::close(plain);
}

/// Relay threads are detached and may still run when the process exits: OpenSSL must not
/// free its global state at exit under their feet.
void initOpenSsl()
{
    static std::once_flag once;
    std::call_once(once, [] { OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, nullptr); });
}

/// A socketpair: [0] for the caller, [1] for the relay.
void makePair(int fds[2], bool callerNonBlocking)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
    if (callerNonBlocking)
        setNonBlocking(fds[0], true);
}

} // namespace

struct ServerIdentity::Context
{
    SSL_CTX *ctx = nullptr;
    ~Context() { SSL_CTX_free(ctx); }
};

ServerIdentity::ServerIdentity()
    : m_context(std::make_shared<Context>())
{
    initOpenSsl();
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    if (!key || !cert)
        throw std::runtime_error("cannot create a TLS key: " + sslError());
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), long(::getpid()));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600L * 24 * 365);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME *name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name,
                               "CN",
                               MBSTRING_ASC,
                               reinterpret_cast<const unsigned char *>("taskbench-scheduler"),
                               -1,
                               -1,
                               0);
    X509_set_issuer_name(cert.get(), name);
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
        throw std::runtime_error("cannot sign the TLS certificate: " + sslError());
    m_context->ctx = SSL_CTX_new(TLS_server_method());
    if (!m_context->ctx || SSL_CTX_set_min_proto_version(m_context->ctx, TLS1_2_VERSION) != 1
        || SSL_CTX_use_certificate(m_context->ctx, cert.get()) != 1
        || SSL_CTX_use_PrivateKey(m_context->ctx, key.get()) != 1)
        throw std::runtime_error("cannot set up TLS: " + sslError());
    m_fingerprint = fingerprintOf(cert.get());
}

ServerIdentity::~ServerIdentity() = default;

int ServerIdentity::serve(int tcpFd, const std::string &peer, Duration timeout)
{
    int fds[2];
    try {
        makePair(fds, true);
    } catch (...) {
        ::close(tcpFd);
        throw;
    }
    std::thread([context = m_context, tcpFd, relayEnd = fds[1], peer, timeout] {
        blockSigpipeInThisThread();
        SslPtr ssl(SSL_new(context->ctx));
        setNonBlocking(tcpFd, false);
        setTimeouts(tcpFd, timeout);
        if (!ssl || SSL_set_fd(ssl.get(), tcpFd) != 1 || SSL_accept(ssl.get()) != 1) {
            log::get("worker")->warn(
                "refused a worker connection from {}: TLS handshake failed: {}", peer, sslError());
            ::close(tcpFd);
            ::close(relayEnd);
            return;
        }
        setTimeouts(tcpFd, Duration::zero());
        pump(std::move(ssl), tcpFd, relayEnd);
    }).detach();
    return fds[0];
}

int connect(int tcpFd, Duration timeout, std::string *fingerprint)
{
    initOpenSsl();
    struct CtxDeleter
    {
        void operator()(SSL_CTX *c) const { SSL_CTX_free(c); }
    };
    std::unique_ptr<SSL_CTX, CtxDeleter> ctx(SSL_CTX_new(TLS_client_method()));
    // No authority to check against: the certificate is bound to the token proofs instead.
    if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
        ::close(tcpFd);
        throw std::runtime_error("cannot set up TLS: " + sslError());
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    SslPtr ssl(SSL_new(ctx.get()));
    setTimeouts(tcpFd, timeout);
    if (!ssl || SSL_set_fd(ssl.get(), tcpFd) != 1 || SSL_connect(ssl.get()) != 1) {
        const std::string why = sslError();
        ::close(tcpFd);
        throw std::runtime_error("TLS handshake with the scheduler failed: " + why);
    }
    setTimeouts(tcpFd, Duration::zero());
    X509 *cert = SSL_get1_peer_certificate(ssl.get());
    *fingerprint = fingerprintOf(cert);
    X509_free(cert);
    int fds[2];
    try {
        makePair(fds, false);
    } catch (...) {
        ::close(tcpFd);
        throw;
    }
    // The SSL object keeps its context alive (reference counted) after ctx goes.
    std::thread([s = ssl.release(), tcpFd, relayEnd = fds[1]] {
        blockSigpipeInThisThread();
        pump(SslPtr(s), tcpFd, relayEnd);
    }).detach();
    return fds[0];
}

} // namespace taskbench::detail::tls
