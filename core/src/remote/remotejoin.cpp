// The worker's half of the TCP handshake (see core/src/remote/workerauth_p.h for the messages).
#include "remote/remotejoin_p.h"

#include "remote/tlsrelay_p.h"
#include "remote/workerauth_p.h"
#include "wire/protocol_p.h"

#include "taskbench/logging.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace taskbench;
using namespace taskbench::detail;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kAuthTimeout = 30s;
constexpr auto kPluginTimeout = 300s;

/// The next handshake frame, waiting at most until deadline.
Value::Map readMessage(Connection &conn, proto::FrameReader &reader, Clock::time_point deadline)
{
    std::string_view payload;
    std::string error;
    for (;;) {
        const auto next = reader.next(&payload, &error);
        if (next == proto::FrameReader::Next::Error)
            throw std::runtime_error("malformed frame from the scheduler: " + error);
        if (next == proto::FrameReader::Next::Frame) {
            std::optional<Value::Map> m = auth::decodePayload(payload, &error);
            if (!m)
                throw std::runtime_error("malformed handshake from the scheduler: " + error);
            if (*auth::stringField(*m, "type") == "refused")
                throw std::runtime_error("the scheduler refused this worker: "
                                         + auth::stringField(*m, "reason").value_or("?"));
            return std::move(*m);
        }
        const auto now = Clock::now();
        if (now >= deadline)
            throw std::runtime_error("the scheduler did not complete the handshake in time");
        pollfd p{conn.fd(), POLLIN, 0};
        const int ms = int(std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count());
        if (::poll(&p, 1, ms) < 0 && errno != EINTR)
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        if (p.revents == 0)
            continue;
        int err = 0;
        const auto st = reader.readFrom(conn.fd(), &err);
        if (st == proto::FrameReader::ReadStatus::Closed)
            throw std::runtime_error("the scheduler closed the connection during the handshake");
        if (st == proto::FrameReader::ReadStatus::Error)
            throw std::runtime_error(std::string("connection error: ") + std::strerror(err));
    }
}

void send(Connection &conn, const Value::Map &m)
{
    const std::string frame = auth::encodeFrame(m);
    if (!conn.writeAll(frame.data(), frame.size()))
        throw std::runtime_error(std::string("cannot write to the scheduler: ")
                                 + std::strerror(errno));
}

std::string expectType(const Value::Map &m, const char *type)
{
    const std::string got = *auth::stringField(m, "type");
    if (got != type)
        throw std::runtime_error("expected \"" + std::string(type) + "\" from the scheduler, got \""
                                 + got + "\"");
    return got;
}

bool readFile(const std::string &path, std::string *data)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;
    data->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

bool hasContent(const std::string &path, const std::string &sha256)
{
    std::string data;
    return readFile(path, &data) && auth::sha256Hex(data) == sha256;
}

bool isHexDigest(const std::string &s)
{
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool isPlainFileName(const std::string &s)
{
    return !s.empty() && s.size() < 256 && s.find('/') == std::string::npos && s != "."
           && s != "..";
}

void makeDir(const std::string &dir)
{
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw std::runtime_error("cannot create " + dir + ": " + std::strerror(errno));
}

/// Stores a received plugin at <cache>/<sha256>/<name>, written aside and renamed so that a
/// concurrent worker never loads half a file.
std::string storePlugin(const std::string &cacheDir,
                        const std::string &sha256,
                        const std::string &name,
                        const std::string &data)
{
    makeDir(cacheDir);
    const std::string dir = cacheDir + "/" + sha256;
    makeDir(dir);
    const std::string path = dir + "/" + name;
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(data.data(), std::streamsize(data.size()));
        if (!out)
            throw std::runtime_error("cannot write " + tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot store " + path + ": " + std::strerror(err));
    }
    return path;
}

} // namespace

std::vector<std::string> taskbench::detail::joinScheduler(std::unique_ptr<Connection> &tcp,
                                                          const RemoteJoin &join)
{
    const auto log = log::get("worker");
    proto::FrameReader reader(auth::kMaxHandshakeFrame);
    auto deadline = Clock::now() + kAuthTimeout;

    Value::Map challenge = readMessage(*tcp, reader, deadline);
    std::string channel; // the scheduler's certificate fingerprint, with TLS
    if (*auth::stringField(challenge, "type") == "starttls") {
        const std::string peer = tcp->peer();
        const int plain = tls::connect(tcp->release(), kAuthTimeout, &channel);
        tcp = std::make_unique<Connection>(plain, peer);
        log->debug("TLS with {} established", peer);
        challenge = readMessage(*tcp, reader, deadline);
    }
    Connection &conn = *tcp;
    expectType(challenge, "challenge");
    const auto schedulerNonce = auth::bytesField(challenge, "nonce");
    if (!schedulerNonce || schedulerNonce->size() != auth::kNonceBytes)
        throw std::runtime_error("malformed challenge from the scheduler");

    const std::string nonce = auth::randomBytes(auth::kNonceBytes);
    char host[256] = "";
    ::gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    Value::Map authMsg;
    authMsg["type"] = "auth";
    authMsg["version"] = std::int64_t(join.version);
    authMsg["nonce"] = auth::bytesValue(nonce);
    authMsg["mac"]
        = auth::bytesValue(auth::proof(join.token, "worker", *schedulerNonce, nonce, channel));
    authMsg["threads"] = std::int64_t(join.threads);
    authMsg["name"] = join.name;
    authMsg["host"] = std::string(host);
    authMsg["pid"] = std::int64_t(::getpid());
    send(conn, authMsg);

    const Value::Map welcome = readMessage(conn, reader, deadline);
    expectType(welcome, "welcome");
    const auto mac = auth::bytesField(welcome, "mac");
    if (!mac
        || !auth::equalConstantTime(
            *mac, auth::proof(join.token, "scheduler", *schedulerNonce, nonce, channel)))
        throw std::runtime_error("the scheduler at " + conn.peer()
                                 + " did not prove that it knows the token; not loading "
                                   "anything from it");
    // The scheduler proved itself: its frames may now be as large as plugin files.
    reader.setMaxFrame(proto::kMaxFrameBytes);

    struct Offer
    {
        std::string name, sha256, path;
    };
    std::vector<Offer> offers;
    const auto list = welcome.find("plugins");
    if (list != welcome.end() && list->second.isList())
        for (const Value &v : list->second.toList()) {
            if (!v.isMap())
                continue;
            Offer o;
            o.name = auth::stringField(v.toMap(), "name").value_or("");
            o.sha256 = auth::stringField(v.toMap(), "sha256").value_or("");
            o.path = auth::stringField(v.toMap(), "path").value_or("");
            if (!isPlainFileName(o.name) || !isHexDigest(o.sha256))
                throw std::runtime_error("malformed plugin offer from the scheduler");
            offers.push_back(std::move(o));
        }

    std::vector<std::string> paths;
    Value::List wanted;
    std::vector<const Offer *> missing;
    for (const Offer &o : offers) {
        const std::string cached = join.cacheDir + "/" + o.sha256 + "/" + o.name;
        if (!o.path.empty() && hasContent(o.path, o.sha256)) {
            paths.push_back(o.path); // a shared file system: the very same file
        } else if (hasContent(cached, o.sha256)) {
            paths.push_back(cached);
        } else {
            wanted.push_back(o.sha256);
            missing.push_back(&o);
        }
    }
    Value::Map want;
    want["type"] = "want";
    want["sha256"] = Value(std::move(wanted));
    send(conn, want);

    deadline = Clock::now() + kPluginTimeout;
    for (const Offer *o : missing) {
        const Value::Map m = readMessage(conn, reader, deadline);
        expectType(m, "plugin");
        const auto data = auth::bytesField(m, "data");
        if (auth::stringField(m, "sha256").value_or("") != o->sha256 || !data
            || auth::sha256Hex(*data) != o->sha256)
            throw std::runtime_error("plugin " + o->name
                                     + " arrived damaged (its SHA-256 does not match)");
        paths.push_back(storePlugin(join.cacheDir, o->sha256, o->name, *data));
        log->info("received plugin {} ({} bytes) from the scheduler", o->name, data->size());
    }
    return paths;
}
