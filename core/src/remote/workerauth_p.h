// Authentication of remote (TCP) workers: the per-cluster token file and the challenge-
// response handshake that proves, in both directions, that the other side knows the token
// without sending it.
//
// The handshake runs in framed CBOR maps (the same 4-byte length prefix as the worker
// protocol, see protocol_p.h), before the first protocol Hello:
//
//   scheduler -> worker  {type: "starttls"} (TLS only: both sides then run the TLS handshake,
//                         and everything below travels inside TLS, see tlsrelay_p.h)
//   scheduler -> worker  {type: "challenge", version, nonce: Ns}
//   worker -> scheduler  {type: "auth", version, nonce: Nw, mac: HMAC(token, "worker"|Ns|Nw),
//                         threads, name, host, pid}
//   scheduler -> worker  {type: "welcome", mac: HMAC(token, "scheduler"|Ns|Nw),
//                         plugins: [{name, path, sha256, size}]}   or {type: "refused", reason}
//   worker -> scheduler  {type: "want", sha256: [...]}        (the plugins it lacks)
//   scheduler -> worker  {type: "plugin", sha256, data} per wanted plugin
//   then the protocol's Hello in both directions (protocol_p.h).
//
// With TLS, the messages hashed into both macs also hold the fingerprint of the scheduler's
// certificate as each side saw it. The worker checks the scheduler's mac before it loads anything
// the scheduler sends: a stranger posing as the scheduler cannot make it run code. HMAC-SHA256 and
// SHA-256 come from Qt Core (QMessageAuthenticationCode, QCryptographicHash).
#pragma once

#include "util/random_p.h"

#include "taskbench/value.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace taskbench::detail::auth {

inline constexpr std::size_t kNonceBytes = 32;
/// Largest handshake frame accepted before the peer proved the token.
inline constexpr std::size_t kMaxHandshakeFrame = 64 * 1024;

// Random bytes and hex (nonces, tokens): util/random_p.h, also under these names here.
using detail::randomBytes;
using detail::toHex;

/// Reads a token file: it must belong to this user and be accessible by nobody else (mode
/// 0600 or stricter), and hold a token of at least 16 characters (surrounding white space
/// ignored). Throws std::runtime_error saying what is wrong.
std::string readTokenFile(const std::string &path);
/// Writes a fresh random token (64 hex digits) to path with mode 0600, creating missing
/// parent folders (0700). Refuses to overwrite an existing file. Returns the token.
std::string createTokenFile(const std::string &path);
/// ~/.taskbench/tokens/cluster-<host>-<pid>.token
std::string defaultTokenPath();

std::string hmacSha256(std::string_view key, std::string_view message);
std::string sha256Hex(std::string_view data);
/// Compares without an early exit (the time does not tell where a guess went wrong).
bool equalConstantTime(std::string_view a, std::string_view b);

/// What the worker (role "worker") or the scheduler (role "scheduler") sends as proof.
/// `channel`: the SHA-256 of the scheduler's TLS certificate as this side saw it (empty
/// without TLS): a man in the middle of the TLS connection makes the two sides disagree.
std::string proof(std::string_view token,
                  std::string_view role,
                  std::string_view schedulerNonce,
                  std::string_view workerNonce,
                  std::string_view channel);

/// One complete handshake frame (length prefix + CBOR map).
std::string encodeFrame(const Value::Map &message);
/// Decodes a handshake payload: a CBOR map with a string "type". nullopt and *error else.
std::optional<Value::Map> decodePayload(std::string_view payload, std::string *error);

/// Field access for decoded handshake maps (nullopt when missing or of another type).
std::optional<std::string> stringField(const Value::Map &m, std::string_view key);
std::optional<std::string> bytesField(const Value::Map &m, std::string_view key);
std::optional<std::int64_t> intField(const Value::Map &m, std::string_view key);
Value bytesValue(std::string_view bytes);

} // namespace taskbench::detail::auth
