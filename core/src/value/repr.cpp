// repr: the short one-line display of a Value (2, 3.5, "abc", [1, 2, 3], <future key>,
// b'\x00'), cut with "..." at a character boundary to stay under a length. It stops
// descending once the text is past the limit, so a huge value costs only what shows.
#include "value/text_p.h"

#include "taskbench/valuecodec.h"

#include <algorithm>

namespace taskbench {

namespace {

using detail::text::appendDouble;
using detail::text::appendEscaped;
using detail::text::appendHexByte;

class ReprWriter
{
public:
    explicit ReprWriter(std::size_t limit)
        : m_limit(limit)
    {}
    // Stops descending once the text is past the limit: a huge list costs only what shows.
    void write(const Value &v)
    {
        if (full())
            return;
        switch (v.type()) {
        case Value::Type::Null:
            m_out += "null";
            break;
        case Value::Type::Bool:
            m_out += v.toBool() ? "true" : "false";
            break;
        case Value::Type::Int:
            m_out += std::to_string(v.toInt());
            break;
        case Value::Type::Double:
            appendDouble(m_out, v.toDouble());
            break;
        case Value::Type::String:
            writeString(v.toString());
            break;
        case Value::Type::Bytes:
            writeBytes(v.toBytes().data);
            break;
        case Value::Type::Ref:
            m_out += "<future ";
            m_out += v.toRef().key;
            m_out.push_back('>');
            break;
        case Value::Type::List: {
            m_out.push_back('[');
            bool first = true;
            for (const Value &item : v.toList()) {
                if (full())
                    return;
                if (!first)
                    m_out += ", ";
                first = false;
                write(item);
            }
            m_out.push_back(']');
            break;
        }
        case Value::Type::Map: {
            m_out.push_back('{');
            bool first = true;
            for (const auto &[key, item] : v.toMap()) {
                if (full())
                    return;
                if (!first)
                    m_out += ", ";
                first = false;
                writeString(key);
                m_out += ": ";
                write(item);
            }
            m_out.push_back('}');
            break;
        }
        }
    }

    std::string take()
    {
        if (m_out.size() <= m_limit)
            return std::move(m_out);
        const std::size_t keep = m_limit > 3 ? m_limit - 3 : 0;
        std::size_t cut = keep;
        // Do not split a UTF-8 sequence.
        while (cut > 0 && (static_cast<unsigned char>(m_out[cut]) & 0xc0) == 0x80)
            --cut;
        m_out.resize(cut);
        m_out += "...";
        return std::move(m_out);
    }

private:
    bool full() const { return m_out.size() > m_limit; }
    void writeString(std::string_view s)
    {
        // Escaping never shrinks text, so a prefix a little longer than the room left (cut
        // at a character boundary) already overflows: a megabyte string costs 80 bytes.
        const std::size_t left = m_limit - std::min(m_limit, m_out.size());
        if (s.size() > left && s.size() - left > 8) {
            std::size_t cut = left + 8;
            while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80)
                --cut;
            s = s.substr(0, cut);
        }
        m_out.push_back('"');
        appendEscaped(m_out, s);
        m_out.push_back('"');
    }
    void writeBytes(const std::vector<std::uint8_t> &data)
    {
        m_out += "b'";
        for (const std::uint8_t c : data) {
            if (full())
                return;
            if (c == '\\' || c == '\'') {
                m_out.push_back('\\');
                m_out.push_back(char(c));
            } else if (c == '\n') {
                m_out += "\\n";
            } else if (c == '\r') {
                m_out += "\\r";
            } else if (c == '\t') {
                m_out += "\\t";
            } else if (c >= 0x20 && c < 0x7f) {
                m_out.push_back(char(c));
            } else {
                m_out += "\\x";
                appendHexByte(m_out, c);
            }
        }
        m_out.push_back('\'');
    }

    std::size_t m_limit;
    std::string m_out;
};

} // namespace

std::string repr(const Value &value, std::size_t maxChars)
{
    ReprWriter writer(maxChars);
    writer.write(value);
    return writer.take();
}

} // namespace taskbench
