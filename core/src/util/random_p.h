// Random bytes from the kernel for secrets: process workers' connection tokens, remote
// workers' cluster tokens and handshake nonces. One implementation (getrandom), so that
// every secret is drawn the same way.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace taskbench::detail {

/// n random bytes (getrandom, retried on EINTR). Throws std::runtime_error.
std::string randomBytes(std::size_t n);
/// Lowercase hex digits of bytes, two per byte.
std::string toHex(std::string_view bytes);
/// toHex(randomBytes(bytes)): 2 * bytes hex digits.
std::string randomHex(std::size_t bytes);

} // namespace taskbench::detail
