// Task tokens: tokenize() (the deterministic MD5 of a call's canonical CBOR, the key of a pure
// task) and randomToken() (a fresh 128-bit id for the others, from a per-thread xoshiro256**).
#include "value/cbor_p.h"
#include "value/text_p.h"

#include "taskbench/valuecodec.h"

#include <array>
#include <bit>
#include <random>

#include <QByteArray>
#include <QByteArrayView>
#include <QCryptographicHash>

namespace taskbench {

namespace {

using namespace detail::cbor;
using detail::text::appendHexByte;
using detail::text::kHexDigits;

// xoshiro256** (Blackman & Vigna), one per thread, seeded once from
// std::random_device. std::mt19937_64 would do, but its 2.5 KiB state per thread and
// slower seeding buy nothing here.

class Xoshiro256
{
public:
    Xoshiro256()
    {
        std::random_device device;
        std::uint64_t seed = (std::uint64_t(device()) << 32) ^ device();
        for (auto &word : m_s) {
            // splitmix64 spreads one seed over the state (and never yields all zeros).
            seed += 0x9e3779b97f4a7c15ull;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            word = z ^ (z >> 31);
        }
    }
    std::uint64_t next()
    {
        const std::uint64_t result = std::rotl(m_s[1] * 5, 7) * 9;
        const std::uint64_t t = m_s[1] << 17;
        m_s[2] ^= m_s[0];
        m_s[3] ^= m_s[1];
        m_s[1] ^= m_s[2];
        m_s[0] ^= m_s[3];
        m_s[2] ^= t;
        m_s[3] = std::rotl(m_s[3], 45);
        return result;
    }

private:
    std::array<std::uint64_t, 4> m_s{};
};

void appendHex64(std::string &out, std::uint64_t v)
{
    for (int shift = 60; shift >= 0; shift -= 4)
        out.push_back(kHexDigits[(v >> shift) & 0xf]);
}

} // namespace

std::string tokenize(std::string_view function, const std::vector<Value> &args)
{
    // One reused buffer per thread: pure submissions hash on the submitting thread, often
    // in a tight loop (map), and should not allocate for the encoding.
    thread_local std::string buffer;
    buffer.clear();
    writeHead(buffer, kArray, 2);
    writeText(buffer, function);
    writeHead(buffer, kArray, args.size());
    for (const Value &arg : args)
        appendCbor(buffer, arg);
    const QByteArray digest = QCryptographicHash::hash(
        QByteArrayView(buffer.data(), qsizetype(buffer.size())), QCryptographicHash::Md5);
    if (buffer.capacity() > (std::size_t(1) << 20))
        std::string().swap(buffer); // one huge argument must not pin its size per thread
    std::string token;
    token.reserve(32);
    for (const char c : digest)
        appendHexByte(token, static_cast<unsigned char>(c));
    return token;
}

std::string randomToken()
{
    thread_local Xoshiro256 generator;
    std::string token;
    token.reserve(32);
    appendHex64(token, generator.next());
    appendHex64(token, generator.next());
    return token;
}

} // namespace taskbench
