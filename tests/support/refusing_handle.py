"""A WaitCondition handle that refuses every signal, as S3 answers a presigned URL it will not honour.

moto's S3 accepts a PUT to an expired presigned URL, and a real handle's
bucket belongs to CloudFormation, so a refusal is played here: each PUT gets
``status`` with S3's XML error body (Amazon S3 API Reference, "Error
responses"), e.g. 403 AccessDenied, 404 NoSuchKey, or 400 RequestTimeout.
"""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RefusingHandle:
    """Served over HTTPS with the response bucket's certificate (a handle URL is always HTTPS)."""

    def __init__(self, status: int, code: str, *, cert_file: str, key_file: str) -> None:
        self.status = status
        self.code = code
        self.cert_file, self.key_file = cert_file, key_file
        self.puts = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> RefusingHandle:
        handle = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_PUT(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                with handle._lock:
                    handle.puts += 1
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    f"<Error><Code>{handle.code}</Code><Message>refused</Message>"
                    "<RequestId>0000000000000000</RequestId></Error>"
                ).encode()
                self.send_response(handle.status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.server_address[1]
        return f"https://127.0.0.1:{port}/cloudformation-waitcondition/handle?X-Amz-Signature=0123456789abcdef"
