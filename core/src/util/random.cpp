// Kernel random bytes and their hex form (see random_p.h).
#include "util/random_p.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <sys/random.h>

namespace taskbench::detail {

std::string randomBytes(std::size_t n)
{
    std::string raw(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = ::getrandom(raw.data() + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
        }
        got += std::size_t(r);
    }
    return raw;
}

std::string toHex(std::string_view bytes)
{
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        hex.push_back(digits[c >> 4]);
        hex.push_back(digits[c & 15]);
    }
    return hex;
}

std::string randomHex(std::size_t bytes)
{
    return toHex(randomBytes(bytes));
}

} // namespace taskbench::detail
