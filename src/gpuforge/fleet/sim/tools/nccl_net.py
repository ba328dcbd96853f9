"""The network part of a simulated multi-node NCCL job: real TCP, as NCCL's socket transport.

With `NCCL_COMM_ID=ADDR:PORT` each rank (`GPUFORGE_SIM_RANK` or MPI's `OMPI_COMM_WORLD_RANK`,
out of `GPUFORGE_SIM_RANKS` or the host count) takes part in a bootstrap: rank 0 listens on PORT;
every other rank binds an ephemeral listener (port 0, as NCCL does), connects to the root and
sends that address; the root sends each rank the address of its ring successor; each rank then
connects to its successor and passes a buffer round the ring. A firewall between the nodes
makes it fail as NCCL fails, with a `NCCL WARN ... Connect to ... failed` line.
"""

from __future__ import annotations

import json
import os
import socket
import time

TIMEOUT_S = float(os.environ.get("GPUFORGE_SIM_NCCL_TIMEOUT", "10"))
PAYLOAD = b"\x5a" * 65536


class NcclNetError(Exception):
    """The bootstrap or the ring could not connect: the message is NCCL's warning line."""


def _connect(host: str, port: int) -> socket.socket:
    """Connect as NCCL does: a refused connection (the peer not listening yet) is retried until
    the timeout; a timeout (a firewall dropping) fails at once."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        try:
            return socket.create_connection((host, port), timeout=TIMEOUT_S)
        except ConnectionRefusedError as error:
            if time.monotonic() > deadline:
                raise NcclNetError(
                    f"NCCL WARN Net : Connect to {host}<{port}> failed : {error.strerror}"
                ) from None
            time.sleep(0.05)
        except OSError as error:
            reason = "Connection timed out" if isinstance(error, TimeoutError) else error.strerror
            raise NcclNetError(
                f"NCCL WARN Net : Connect to {host}<{port}> failed : {reason}"
            ) from None


def _listener(address: str, port: int) -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, port))
    server.listen(64)
    server.settimeout(TIMEOUT_S * 3)
    return server


def _send(conn: socket.socket, data: dict[str, object]) -> None:
    conn.sendall(json.dumps(data).encode() + b"\n")


def _receive(conn: socket.socket) -> dict[str, object]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk:
            raise NcclNetError("NCCL WARN Net : bootstrap connection closed by peer")
        data += chunk
    loaded: dict[str, object] = json.loads(data)
    return loaded


def _own_address(root: str, port: int) -> str:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((root, port))
        return str(probe.getsockname()[0])
    finally:
        probe.close()


def _ring(ring_in: socket.socket, successor: tuple[str, int]) -> None:
    out = _connect(*successor)
    with out:
        out.sendall(PAYLOAD)
        try:
            conn, _ = ring_in.accept()
        except TimeoutError:
            raise NcclNetError("NCCL WARN Net : no connection from the ring predecessor") from None
        with conn:
            got = 0
            conn.settimeout(TIMEOUT_S)
            while got < len(PAYLOAD):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
    if got != len(PAYLOAD):
        raise NcclNetError("NCCL WARN Net : ring transfer cut short")


def run_bootstrap(comm_id: str, rank: int, ranks: int) -> None:
    """Take part in the job's bootstrap and one ring transfer; raise NcclNetError on failure."""
    root, _, port_text = comm_id.rpartition(":")
    port = int(port_text)
    me = _own_address(root, port)
    ring_in = _listener(me, 0)
    with ring_in:
        mine = {"rank": rank, "addr": me, "port": ring_in.getsockname()[1]}
        if rank == 0:
            server = _listener("0.0.0.0", port)
            peers: dict[int, dict[str, object]] = {0: mine}
            conns = []
            with server:
                while len(peers) < ranks:
                    try:
                        conn, _ = server.accept()
                    except TimeoutError:
                        missing = ranks - len(peers)
                        raise NcclNetError(
                            f"NCCL WARN Bootstrap : {missing} rank(s) never connected"
                        ) from None
                    info = _receive(conn)
                    peers[int(str(info["rank"]))] = info
                    conns.append((int(str(info["rank"])), conn))
            for other, conn in conns:
                with conn:
                    _send(conn, peers[(other + 1) % ranks])
            successor = peers[1 % ranks]
        else:
            with _connect(root, port) as conn:
                _send(conn, mine)
                successor = _receive(conn)
        _ring(ring_in, (str(successor["addr"]), int(str(successor["port"]))))
