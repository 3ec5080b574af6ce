"""Exits 0 when the X server on display :N (argv[1]) completes a connection handshake.

run_a11y.sh asks before starting the app, so that "could not connect to display" means the
app's fault and not a server that had reported its number but was not (or no longer) there.
(The server runs with -noreset: this client leaving must not reset it under the app.)
Tries the abstract socket first, as libxcb does, then the socket file; 10 s in all.
"""
import socket
import struct
import sys
import time

display = sys.argv[1]
# Byte order 'l' (little endian), protocol 11.0, no authorisation name or data.
SETUP = struct.pack("<cxHHHHxx", b"l", 11, 0, 0, 0)
deadline = time.monotonic() + 10
last = "no attempt"
while time.monotonic() < deadline:
    for address in ("\0/tmp/.X11-unix/X" + display, "/tmp/.X11-unix/X" + display):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(address)
                s.sendall(SETUP)
                status = s.recv(1)
            if status == b"\x01":
                sys.exit(0)
            last = f"{address!r} answered status {status!r}"
        except OSError as e:
            last = f"{address!r}: {e}"
    time.sleep(0.1)
print(f"x_handshake: display :{display} did not accept a client: {last}", file=sys.stderr)
sys.exit(1)
