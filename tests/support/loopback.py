"""What every small HTTP stand-in shares: a server on a free loopback port, served by a daemon thread."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


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
