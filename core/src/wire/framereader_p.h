// The frame reader: accumulates a byte stream (a non-blocking socket, or test input) and cuts
// it into frames (a 4-byte big-endian payload length, then the payload), refusing any frame
// longer than a limit before buffering it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace taskbench::detail::proto {

/// Bytes of the length prefix.
inline constexpr std::size_t kFrameHeaderBytes = 4;
/// Largest payload accepted (and sent): a longer announced length is a protocol error.
inline constexpr std::size_t kMaxFrameBytes = std::size_t(256) << 20;

/// Accumulates bytes from a stream (a non-blocking socket, or test input) and yields the
/// complete frames. The buffer grows with the data that actually arrived, never with an
/// announced length, so a hostile prefix cannot make it allocate.
class FrameReader
{
public:
    explicit FrameReader(std::size_t maxFrame = kMaxFrameBytes);
    ~FrameReader();
    FrameReader(const FrameReader &) = delete;
    FrameReader &operator=(const FrameReader &) = delete;

    enum class ReadStatus {
        Data,       ///< some bytes were read
        WouldBlock, ///< nothing to read now (EAGAIN)
        Closed,     ///< orderly end of stream
        Error       ///< read error (errno in *err)
    };
    /// One read() into the buffer (of up to `chunk` bytes, more when a large frame is
    /// pending). Retries on EINTR.
    ReadStatus readFrom(int fd, int *err = nullptr, std::size_t chunk = 256 * 1024);
    /// Appends bytes (tests, other transports).
    void append(std::string_view bytes);

    enum class Next {
        Frame,    ///< *payload is a complete frame, valid until the next call on this reader
        NeedMore, ///< no complete frame buffered
        Error     ///< the stream is unusable (*error says why)
    };
    Next next(std::string_view *payload, std::string *error = nullptr);

    /// Bytes buffered but not yet returned as frames.
    std::size_t buffered() const { return m_end - m_begin; }
    /// Changes the largest frame accepted from now on (a handshake is read with a small
    /// limit; the connection it proves gets the full one, keeping what is buffered).
    void setMaxFrame(std::size_t maxFrame) { m_maxFrame = maxFrame; }

private:
    void reserveTail(std::size_t want);
    /// The length prefix of the frame at m_begin (at least kFrameHeaderBytes are buffered).
    std::size_t announcedLength() const
    {
        const auto *p = reinterpret_cast<const unsigned char *>(m_data.get() + m_begin);
        return (std::size_t(p[0]) << 24) | (std::size_t(p[1]) << 16) | (std::size_t(p[2]) << 8)
               | std::size_t(p[3]);
    }

    std::size_t m_maxFrame;
    std::unique_ptr<char[]> m_data;
    std::size_t m_capacity = 0;
    std::size_t m_begin = 0;
    std::size_t m_end = 0;
    bool m_failed = false;
};

} // namespace taskbench::detail::proto
