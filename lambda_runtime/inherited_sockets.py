"""Connections opened during the init belong to no forked worker.

A client made at import time (a boto3 client after its first call, a requests Session, an
SSM parameter fetched at start) keeps its TCP connection in a pool. Workers forked after
the init inherit that socket: two workers writing requests into one connection would read
each other's answers. So each worker, first thing, swaps every inherited connected TCP
socket (dup2) for a fresh unconnected one of the same family. The objects holding it stay
valid, and their next use finds it disconnected: urllib3, http.client and httpx then open
a connection of their own, as they do after a server closed an idle keep-alive connection.
The supervisor keeps the originals open and never uses them.
"""

import os
import socket
import stat


def detach_inherited_connections():
    """Returns how many connections were detached."""
    detached = 0
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
        except OSError:  # the directory's own fd, closed by now
            continue
        probe = socket.socket(fileno=os.dup(fd))
        try:
            if probe.family not in (socket.AF_INET, socket.AF_INET6) or probe.type != socket.SOCK_STREAM:
                continue
            try:
                probe.getpeername()
            except OSError:  # listening or never connected: nothing is shared
                continue
            fresh = socket.socket(probe.family, socket.SOCK_STREAM)
            os.dup2(fresh.fileno(), fd, inheritable=os.get_inheritable(fd))
            fresh.close()
            detached += 1
        finally:
            probe.close()
    return detached
