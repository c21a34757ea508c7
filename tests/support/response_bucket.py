"""A real presigned-S3 CloudFormation ResponseURL, served by moto over HTTPS.

CloudFormation hands a custom resource a presigned S3 PUT URL and waits for
the handler's JSON there. crhelper always PUTs with
``http.client.HTTPSConnection(host, context=ssl.create_default_context())``,
whatever the URL scheme, so the URL has to be HTTPS and the certificate has to
be trusted through ``SSL_CERT_FILE``. This module runs ``moto_server`` as a
subprocess with a ``trustme`` certificate for ``localhost``/``127.0.0.1``;
tests point ``SSL_CERT_FILE`` at :attr:`ResponseBucket.ca_file`.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import pathlib
import socket
import ssl
import subprocess
import sys
import time
from typing import Any

import boto3
import trustme
from botocore.config import Config

__all__ = ["BUCKET_NAME", "ResponseBucket"]

BUCKET_NAME = "cfn-responses"
_START_TIMEOUT_S = 20.0
_START_ATTEMPTS = 3  # a picked port can be taken before moto binds it
_DUMMY_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


def _free_port() -> int:
    """Ask the OS for a currently unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _moto_server_executable() -> str:
    """Path of ``moto_server`` installed next to the running interpreter."""
    bin_dir = pathlib.Path(sys.executable).parent
    for name in ("moto_server", "moto_server.exe"):
        candidate = bin_dir / name
        if candidate.exists():
            return str(candidate)
    raise RuntimeError(f"moto_server not found in {bin_dir}; install moto[server] into this environment")


class ResponseBucket:
    """moto S3 over HTTPS with a bucket that receives custom-resource responses."""

    def __init__(self, workdir: pathlib.Path) -> None:
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.bucket = BUCKET_NAME
        # trustme: a throwaway CA plus a server certificate valid for both
        # names, so "https://localhost:<port>" and the raw IP both verify.
        ca = trustme.CA()
        server_cert = ca.issue_cert("localhost", "127.0.0.1")
        self.ca_file = str(self.workdir / "ca.pem")
        self.cert_file = str(self.workdir / "cert.pem")
        self.key_file = str(self.workdir / "key.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        server_cert.cert_chain_pems[0].write_to_path(self.cert_file)
        for extra in server_cert.cert_chain_pems[1:]:
            extra.write_to_path(self.cert_file, append=True)
        server_cert.private_key_pem.write_to_path(self.key_file)
        self.log_file = str(self.workdir / "moto_server.log")
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._client: Any = None
        self._bucket_created = False

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> ResponseBucket:
        """Launch moto_server on a free port and wait until it answers HTTPS."""
        if self._process is not None:
            raise RuntimeError("ResponseBucket is already running")
        # Registered before launching so an interrupted start cannot leak it.
        atexit.register(self.stop)
        last_error = ""
        for _ in range(_START_ATTEMPTS):
            port = _free_port()
            self._launch(port)
            error = self._wait_until_ready(port)
            if error is None:
                self._port = port
                return self
            last_error = error
            self.stop()
            atexit.register(self.stop)
        atexit.unregister(self.stop)
        raise RuntimeError(f"moto_server did not start: {last_error}\n{self._log_tail()}")

    def stop(self) -> None:
        """Terminate the moto_server subprocess (killing it if it lingers)."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        self._port = None
        self._client = None
        self._bucket_created = False
        if process is None:
            return
        try:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
        finally:
            if process.stdout is not None:
                process.stdout.close()

    def __enter__(self) -> ResponseBucket:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """``https://localhost:<port>`` of the running moto server."""
        if self._port is None:
            raise RuntimeError("ResponseBucket is not running; call start() first")
        return f"https://localhost:{self._port}"

    # ------------------------------------------------------------ test helpers

    def presigned_response_url(self, key: str, endpoint_url: str | None = None) -> str:
        """A presigned SigV4 PUT URL for ``key``, as CloudFormation issues.

        ``endpoint_url`` signs the URL for another address that forwards to
        this server (a proxy that drops connections, for instance).
        """
        self._ensure_bucket()
        client = self._s3() if endpoint_url is None else self._s3(endpoint_url)
        return client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=3600,
        )

    def read_response(self, key: str) -> dict | None:
        """The JSON the handler PUT at ``key``, or None if nothing arrived yet."""
        client = self._s3()
        try:
            obj = client.get_object(Bucket=self.bucket, Key=key)
        except client.exceptions.NoSuchKey:
            return None
        except client.exceptions.NoSuchBucket:
            return None
        raw = obj["Body"].read()
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise AssertionError(f"response at s3://{self.bucket}/{key} is not JSON: {raw[:500]!r}") from exc

    def wait_for_response(self, key: str, timeout: float = 10.0) -> dict:
        """Poll until a response is at ``key``; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.read_response(key)
            if response is not None:
                return response
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"no CloudFormation response was PUT to s3://{self.bucket}/{key} "
                    f"within {timeout:g}s (server {self.endpoint_url})"
                )
            time.sleep(0.05)

    # --------------------------------------------------------------- internals

    def _launch(self, port: int) -> None:
        env = dict(os.environ)
        # moto builds some URLs from MOTO_PORT; keep it consistent with -p.
        env["MOTO_PORT"] = str(port)
        # The log file, not a pipe: a pipe nobody reads would eventually
        # fill up and block the server.
        log = open(self.log_file, "ab")  # noqa: SIM115 - handed to Popen
        try:
            self._process = subprocess.Popen(
                [
                    _moto_server_executable(),
                    "-H",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "--ssl-cert",
                    self.cert_file,
                    "--ssl-key",
                    self.key_file,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        finally:
            log.close()  # the child has its own descriptor

    def _wait_until_ready(self, port: int) -> str | None:
        """None once moto answers over verified HTTPS, else why it did not."""
        assert self._process is not None
        context = ssl.create_default_context(cafile=self.ca_file)
        deadline = time.monotonic() + _START_TIMEOUT_S
        last_error = "no attempt made"
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                return f"moto_server exited with code {code} (port {port})"
            # http.client rather than urllib: no proxy from the environment
            # may intercept a loopback probe.
            connection = http.client.HTTPSConnection("localhost", port, context=context, timeout=2)
            try:
                connection.request("GET", "/moto-api/")
                connection.getresponse().read()
                return None  # any HTTP answer means the server is up
            except (OSError, http.client.HTTPException) as exc:
                last_error = repr(exc)
            finally:
                connection.close()
            time.sleep(0.1)
        return f"no HTTPS answer on port {port} within {_START_TIMEOUT_S:g}s ({last_error})"

    def _log_tail(self, limit: int = 4000) -> str:
        try:
            text = pathlib.Path(self.log_file).read_text(errors="replace")
        except OSError:
            return "(no moto_server log)"
        return f"moto_server log tail:\n{text[-limit:]}"

    def _s3(self, endpoint_url: str | None = None) -> Any:
        """boto3 S3 client for this server, built once per run (or for ``endpoint_url``, each time)."""
        if endpoint_url is not None or self._client is None:
            # Own session with explicit dummy credentials: nothing from the
            # process environment (or a real profile) leaks in or is changed.
            session = boto3.session.Session(region_name="us-east-1", **_DUMMY_CREDENTIALS)
            client = session.client(
                "s3",
                endpoint_url=endpoint_url or self.endpoint_url,
                verify=self.ca_file,
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path"},
                    retries={"total_max_attempts": 3, "mode": "standard"},
                    # Loopback traffic must never go through an environment proxy.
                    proxies={},
                ),
            )
            if endpoint_url is not None:
                return client
            self._client = client
        return self._client

    def _ensure_bucket(self) -> None:
        if self._bucket_created:
            return
        client = self._s3()
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=self.bucket)
        self._bucket_created = True
