"""The one port helper of the tests and benchmarks.

Servers we run in-process bind port 0 themselves and read the port back (`listening_socket`).
Servers in other processes (Streamlit, Ray, llama.cpp) need a number on their command line:
`free_port` gives one the kernel just handed out, and their starters (StreamlitServer,
PostgresServer, LlamaServer) start again on another port when the server says it was taken in
between (the only window left)."""

from __future__ import annotations

import socket


def listening_socket(host: str = "127.0.0.1") -> socket.socket:
    """A TCP socket bound to a port the kernel chose, listening; its port is
    `sock.getsockname()[1]`."""
    sock = socket.socket()
    sock.bind((host, 0))
    sock.listen()
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago, for a server in another process."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
