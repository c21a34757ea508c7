"""What every small HTTP stand-in shares: a server on a free loopback port, served by a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StandInServer(ThreadingHTTPServer):
    """A loopback server whose handlers reach their stand-in as ``self.server.stand_in``."""

    daemon_threads = True

    def __init__(self, stand_in: Any, handler: type[BaseHTTPRequestHandler]) -> None:
        self.stand_in = stand_in
        super().__init__(("127.0.0.1", 0), handler)


class QuietHandler(BaseHTTPRequestHandler):
    """A keep-alive request handler that logs nothing, and answers with ``reply``."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: StandInServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request logs would only clutter test output."""

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class LoopbackService:
    """Base of a stand-in: ``_serve`` a server, then ``endpoint_url`` until ``stop()``."""

    _server: ThreadingHTTPServer | None = None

    def _serve(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, f"start() the {type(self).__name__} first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"
