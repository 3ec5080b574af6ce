// The frame reader (see wire/framereader_p.h). The buffer grows with the bytes that actually
// arrived, never with an announced length, so a hostile length prefix cannot make it allocate;
// a frame longer than the limit fails the stream for good.
#include "wire/framereader_p.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <unistd.h>

namespace taskbench::detail::proto {

FrameReader::FrameReader(std::size_t maxFrame)
    : m_maxFrame(maxFrame)
{}

FrameReader::~FrameReader() = default;

void FrameReader::reserveTail(std::size_t want)
{
    if (m_capacity - m_end >= want)
        return;
    const std::size_t used = m_end - m_begin;
    if (m_begin > 0 && m_capacity - used >= want) {
        std::memmove(m_data.get(), m_data.get() + m_begin, used);
        m_begin = 0;
        m_end = used;
        return;
    }
    const std::size_t capacity = std::max(m_capacity * 2, used + want);
    auto data = std::make_unique_for_overwrite<char[]>(capacity);
    if (used)
        std::memcpy(data.get(), m_data.get() + m_begin, used);
    m_data = std::move(data);
    m_capacity = capacity;
    m_begin = 0;
    m_end = used;
}

FrameReader::ReadStatus FrameReader::readFrom(int fd, int *err, std::size_t chunk)
{
    // While a large frame is incomplete, read more of it at once (still bounded by what the
    // frame announced and by 8 MiB per call, not by the announced length alone).
    std::size_t want = chunk;
    if (buffered() >= kFrameHeaderBytes) {
        const std::size_t len = announcedLength();
        if (len <= m_maxFrame && len + kFrameHeaderBytes > buffered())
            want = std::max(want,
                            std::min<std::size_t>(len + kFrameHeaderBytes - buffered(), 8 << 20));
    }
    reserveTail(want);
    for (;;) {
        const ssize_t n = ::read(fd, m_data.get() + m_end, m_capacity - m_end);
        if (n > 0) {
            m_end += std::size_t(n);
            return ReadStatus::Data;
        }
        if (n == 0)
            return ReadStatus::Closed;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return ReadStatus::WouldBlock;
        if (err)
            *err = errno;
        return ReadStatus::Error;
    }
}

void FrameReader::append(std::string_view bytes)
{
    reserveTail(bytes.size());
    if (!bytes.empty())
        std::memcpy(m_data.get() + m_end, bytes.data(), bytes.size());
    m_end += bytes.size();
}

FrameReader::Next FrameReader::next(std::string_view *payload, std::string *error)
{
    if (m_failed) {
        if (error)
            *error = "the stream failed earlier";
        return Next::Error;
    }
    if (m_begin == m_end) {
        m_begin = m_end = 0;
        return Next::NeedMore;
    }
    if (buffered() < kFrameHeaderBytes)
        return Next::NeedMore;
    const std::size_t len = announcedLength();
    if (len > m_maxFrame) {
        m_failed = true;
        if (error)
            *error = "frame of " + std::to_string(len) + " bytes exceeds the limit of "
                     + std::to_string(m_maxFrame) + " bytes";
        return Next::Error;
    }
    if (buffered() - kFrameHeaderBytes < len)
        return Next::NeedMore;
    *payload = std::string_view(m_data.get() + m_begin + kFrameHeaderBytes, len);
    m_begin += kFrameHeaderBytes + len;
    return Next::Frame;
}

} // namespace taskbench::detail::proto
