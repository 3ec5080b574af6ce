// Token files and the challenge-response proofs of remote workers (see workerauth_p.h).
#include "remote/workerauth_p.h"

#include "wire/protocol_p.h"

#include "taskbench/valuecodec.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace taskbench::detail::auth {

namespace {

QByteArrayView view(std::string_view s)
{
    return QByteArrayView(s.data(), qsizetype(s.size()));
}

std::string fromQt(const QByteArray &b)
{
    return std::string(b.constData(), std::size_t(b.size()));
}

void makePrivateDirs(const std::string &dir)
{
    if (dir.empty())
        return;
    std::string prefix;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        prefix = dir.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
            throw std::runtime_error("cannot create " + prefix + ": " + std::strerror(errno));
    }
}

} // namespace

std::string readTokenFile(const std::string &path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        throw std::runtime_error("cannot read token file " + path + ": " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw std::runtime_error("token file " + path + " is not a regular file");
    }
    if (st.st_uid != ::getuid() || (st.st_mode & 0077) != 0) {
        ::close(fd);
        throw std::runtime_error("token file " + path
                                 + " must belong to this user and be readable by nobody else"
                                   " (chmod 600 "
                                 + path + ")");
    }
    std::string data;
    char buf[512];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        data.append(buf, std::size_t(n));
        if (data.size() > 4096)
            break;
    }
    ::close(fd);
    const auto first = data.find_first_not_of(" \t\r\n");
    const auto last = data.find_last_not_of(" \t\r\n");
    const std::string token
        = first == std::string::npos ? std::string() : data.substr(first, last - first + 1);
    if (token.size() < 16 || token.size() > 1024)
        throw std::runtime_error("token file " + path
                                 + " does not hold a token (16 to 1024 characters)");
    return token;
}

std::string createTokenFile(const std::string &path)
{
    const auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0)
        makePrivateDirs(path.substr(0, slash));
    const std::string token = toHex(randomBytes(32));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        throw std::runtime_error("cannot create token file " + path + ": " + std::strerror(errno));
    const std::string line = token + "\n";
    const bool ok = ::write(fd, line.data(), line.size()) == ssize_t(line.size());
    ::close(fd);
    if (!ok) {
        ::unlink(path.c_str());
        throw std::runtime_error("cannot write token file " + path);
    }
    return token;
}

std::string defaultTokenPath()
{
    const char *home = std::getenv("HOME");
    char host[256] = "localhost";
    ::gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    return std::string(home && *home ? home : "/tmp") + "/.taskbench/tokens/cluster-" + host + "-"
           + std::to_string(::getpid()) + ".token";
}

std::string hmacSha256(std::string_view key, std::string_view message)
{
    return fromQt(QMessageAuthenticationCode::hash(
        QByteArray::fromRawData(message.data(), qsizetype(message.size())),
        QByteArray::fromRawData(key.data(), qsizetype(key.size())),
        QCryptographicHash::Sha256));
}

std::string sha256Hex(std::string_view data)
{
    return fromQt(QCryptographicHash::hash(view(data), QCryptographicHash::Sha256).toHex());
}

bool equalConstantTime(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

std::string proof(std::string_view token,
                  std::string_view role,
                  std::string_view schedulerNonce,
                  std::string_view workerNonce,
                  std::string_view channel)
{
    std::string message = "taskbench-";
    message.append(role);
    message.push_back('\0');
    message.append(schedulerNonce);
    message.append(workerNonce);
    message.append(channel);
    return hmacSha256(token, message);
}

std::string encodeFrame(const Value::Map &message)
{
    const std::string payload = encodeCbor(Value(message));
    std::string frame(proto::kFrameHeaderBytes, '\0');
    const std::uint32_t n = std::uint32_t(payload.size());
    frame[0] = char(n >> 24);
    frame[1] = char(n >> 16);
    frame[2] = char(n >> 8);
    frame[3] = char(n);
    frame += payload;
    return frame;
}

std::optional<Value::Map> decodePayload(std::string_view payload, std::string *error)
{
    std::optional<Value> v = decodeCbor(payload, error);
    if (!v)
        return std::nullopt;
    if (!v->isMap() || !stringField(v->toMap(), "type")) {
        if (error)
            *error = "not a handshake message";
        return std::nullopt;
    }
    return std::move(v->toMap());
}

std::optional<std::string> stringField(const Value::Map &m, std::string_view key)
{
    auto it = m.find(key);
    if (it == m.end() || !it->second.isString())
        return std::nullopt;
    return it->second.toString();
}

std::optional<std::string> bytesField(const Value::Map &m, std::string_view key)
{
    auto it = m.find(key);
    if (it == m.end() || !it->second.isBytes())
        return std::nullopt;
    const auto &d = it->second.toBytes().data;
    return std::string(d.begin(), d.end());
}

std::optional<std::int64_t> intField(const Value::Map &m, std::string_view key)
{
    auto it = m.find(key);
    if (it == m.end() || !it->second.isInt())
        return std::nullopt;
    return it->second.toInt();
}

Value bytesValue(std::string_view bytes)
{
    Bytes b;
    b.data.assign(bytes.begin(), bytes.end());
    return Value(std::move(b));
}

} // namespace taskbench::detail::auth
