#!/usr/bin/python3 -S
"""Simulated instance metadata service at 169.254.169.254:80, inside the node's network namespace.

The node's init starts it (`gpuforge-sim-metadata`). It answers the spot-interruption contracts
of the three clouds from the node's simulated state, so that a watcher on the node talks to it as
to the real service:
  AWS IMDSv2  PUT /latest/api/token (header X-aws-ec2-metadata-token-ttl-seconds), then
              GET /latest/meta-data/spot/instance-action (header X-aws-ec2-metadata-token):
              404 without a notice, else {"action": "terminate", "time": "<UTC, ISO 8601>"}
  Azure       GET /metadata/scheduledevents?api-version=... (header Metadata: true): a Preempt
              event naming this VM; POST the same path with StartRequests approves it;
              GET /metadata/instance/compute/name?...&format=text: the VM's name
  GCP         GET /computeMetadata/v1/instance/preempted (header Metadata-Flavor: Google):
              TRUE or FALSE
A notice exists while the node has the `spot-interruption` fault (`gpuforge fleet inject NODE
spot-interruption`). When its notice period has passed, the service powers the node off, as the
cloud reclaims the machine: it signals the node's init (PID 1), which exits, and the node's
processes end with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False

sys.path[:0] = [
    os.path.join(os.environ.get("GPUFORGE_SIM_ROOT", "/"), "usr/lib/gpuforge-sim"),
    os.path.dirname(os.path.abspath(__file__)),
]

if TYPE_CHECKING:
    from typing import Any

    from gpuforge.fleet.sim.tools import simlib

    Json = dict[str, Any]
else:
    import simlib

ADDRESS = "169.254.169.254"
PORT = 80
FAULT = "spot-interruption"
# The signal the node's init takes as "power off" (it traps it and exits).
POWER_OFF = signal.SIGUSR2
CHECK_EVERY_S = 0.2


def notice(state: Json) -> Json | None:
    """The spot-interruption fault's parameters (at, notice_s, action), or None."""
    found = simlib.faults(state, FAULT)
    return dict(found[0]) if found else None


def reclaim_at(params: Json) -> float:
    """When the machine is reclaimed: the injection time plus the notice period."""
    return float(params.get("at", 0)) + float(params.get("notice_s", 120))


def aws_instance_action(params: Json) -> Json:
    """AWS's instance-action document for a notice."""
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(reclaim_at(params)))
    return {"action": str(params.get("action", "terminate")), "time": when}


def azure_events(params: Json | None, vm_name: str, approved: set[str]) -> Json:
    """Azure's Scheduled Events document: one Preempt event for this VM while there is a notice."""
    if params is None:
        return {"DocumentIncarnation": 0, "Events": []}
    seed = f"{vm_name}:{params.get('at', 0)}".encode()
    digest = hashlib.sha256(seed).hexdigest()
    event_id = "-".join((digest[:8], digest[8:12], digest[12:16], digest[16:20], digest[20:32]))
    event = {
        "EventId": event_id.upper(),
        "EventType": "Preempt",
        "ResourceType": "VirtualMachine",
        "Resources": [vm_name],
        "EventStatus": "Started" if event_id.upper() in approved else "Scheduled",
        "NotBefore": formatdate(reclaim_at(params), usegmt=True),
        "Description": "The Spot virtual machine is being evicted.",
        "EventSource": "Platform",
        "DurationInSeconds": -1,
    }
    return {"DocumentIncarnation": 1, "Events": [event]}


class Handler(BaseHTTPRequestHandler):
    """One request to the metadata service."""

    server: MetadataServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the node's console log is not a request log."""
        del format, args

    def _send(self, status: int, body: str, kind: str = "text/plain") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, data: Json) -> None:
        self._send(200, json.dumps(data), "application/json")

    def do_PUT(self) -> None:
        """AWS: hand out a session token."""
        path = urlsplit(self.path).path
        if path != "/latest/api/token":
            self._send(404, "Not Found")
        elif not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self._send(400, "Missing or Invalid Parameters")
        else:
            token = secrets.token_urlsafe(32)
            self.server.tokens.add(token)
            self._send(200, token)

    def do_GET(self) -> None:
        """AWS instance-action, Azure scheduled events and VM name, GCP preempted."""
        url = urlsplit(self.path)
        params = notice(simlib.load_state())
        if url.path.startswith("/latest/"):
            if self.headers.get("X-aws-ec2-metadata-token") not in self.server.tokens:
                self._send(401, "Unauthorized")
            elif url.path != "/latest/meta-data/spot/instance-action" or params is None:
                self._send(404, "Not Found")
            else:
                self._json(aws_instance_action(params))
        elif url.path.startswith("/metadata/"):
            if self.headers.get("Metadata") != "true" or "api-version" not in parse_qs(url.query):
                self._send(400, "Bad request: Metadata header and api-version are required")
            elif url.path == "/metadata/scheduledevents":
                self._json(azure_events(params, simlib.hostname(), self.server.approved))
            elif url.path == "/metadata/instance/compute/name":
                self._send(200, simlib.hostname())
            else:
                self._send(404, "Not Found")
        elif url.path.startswith("/computeMetadata/"):
            if self.headers.get("Metadata-Flavor") != "Google":
                self._send(403, "Missing Metadata-Flavor:Google header.")
            elif url.path == "/computeMetadata/v1/instance/preempted":
                self._send(200, "TRUE" if params is not None else "FALSE")
            else:
                self._send(404, "Not Found")
        else:
            self._send(404, "Not Found")

    def do_POST(self) -> None:
        """Azure: approve scheduled events (StartRequests)."""
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path != "/metadata/scheduledevents" or self.headers.get("Metadata") != "true":
            self._send(400, "Bad request")
            return
        try:
            requests = json.loads(body or b"{}").get("StartRequests", [])
            self.server.approved.update(str(r["EventId"]).upper() for r in requests)
        except (ValueError, AttributeError, KeyError, TypeError):
            self._send(400, "Bad request: StartRequests")
            return
        self._send(200, "")


class MetadataServer(ThreadingHTTPServer):
    """The service and what it remembers: AWS tokens handed out, Azure events approved."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, Handler)
        self.tokens: set[str] = set()
        self.approved: set[str] = set()


def reclaimer(init_pid: int = 1, interval: float = CHECK_EVERY_S) -> None:
    """Power the node off (signal its init) once a notice's period has passed (runs in a
    thread until then)."""
    while True:
        try:
            params = notice(simlib.load_state())
        except (OSError, ValueError):
            params = None
        if params is not None and time.time() >= reclaim_at(params):
            print("metadata: notice period over, powering off", file=sys.stderr, flush=True)
            os.kill(init_pid, POWER_OFF)
            return
        time.sleep(interval)


def main(argv: list[str]) -> None:
    """Serve until the node stops; tests off the fleet pass `--address A --port N` (0: any
    free port) and `--no-reclaim` or `--init-pid PID` (the process standing for the node's
    init). Prints the address it serves on."""
    address, port = ADDRESS, PORT
    if "--address" in argv:
        address = argv[argv.index("--address") + 1]
    if "--port" in argv:
        port = int(argv[argv.index("--port") + 1])
    server = MetadataServer((address, port))
    host, bound = str(server.server_address[0]), int(server.server_address[1])
    print(f"metadata: serving on {host}:{bound}", flush=True)
    init_pid = int(argv[argv.index("--init-pid") + 1]) if "--init-pid" in argv else 1
    if "--no-reclaim" not in argv:
        threading.Thread(target=reclaimer, args=(init_pid,), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
