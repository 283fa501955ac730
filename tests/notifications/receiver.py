"""A webhook receiver on loopback for tests and benchmarks: records every request (headers,
raw body, time) and answers by a rule (``answer(n)``: the status of the n-th request, or a
number of seconds to hang first)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    event: str
    delivery: str
    signature: str
    body: bytes
    at: float
    status: int
    wall: float


class Receiver:
    def __init__(self, answer=lambda n: 200, hang=lambda n: 0.0):
        self.answer, self.hang = answer, hang
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    n = len(receiver.requests)
                    status = receiver.answer(n)
                    receiver.requests.append(
                        Received(
                            self.headers.get("X-Deployserver-Event", ""),
                            self.headers.get("X-Deployserver-Delivery", ""),
                            self.headers.get("X-Deployserver-Signature", ""),
                            body,
                            time.monotonic(),
                            status,
                            time.time(),
                        )
                    )
                pause = receiver.hang(n)
                if pause:
                    time.sleep(pause)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try again")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def delivered(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if 200 <= r.status < 300]
