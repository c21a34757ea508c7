"""A TCP proxy on 127.0.0.1 that drops its first connections, then forwards the rest.

It plays a flaky network between the handler and CloudFormation's ResponseURL:
TLS passes through untouched, so the handler still talks to the real server
behind it::

    with FlakyProxy(target_port=bucket_port, drop_first=2) as proxy:
        url = bucket.presigned_response_url(key, endpoint_url=f"https://localhost:{proxy.port}")
"""

from __future__ import annotations

import contextlib
import socket
import threading


class FlakyProxy:
    """Closes the first ``drop_first`` connections at once; pipes later ones to ``target_port``."""

    def __init__(self, *, target_port: int, drop_first: int) -> None:
        self.target_port = target_port
        self.drop_first = drop_first
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def __enter__(self) -> FlakyProxy:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            if self.connections <= self.drop_first:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for source, sink in ((client, upstream), (upstream, client)):
                pipe = threading.Thread(target=_pipe, args=(source, sink), daemon=True)
                pipe.start()
                self._threads.append(pipe)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass  # the other side closed
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
