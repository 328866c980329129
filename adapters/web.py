"""The supervisor's own HTTP server on METRICS_HOST:METRICS_PORT: /metrics, the health checks and the
read-only status page. Standard library only; every route is a GET that returns a `Response`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from loguru import logger


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    content_type: str
    body: bytes


Route = Callable[[], Response]
NOT_FOUND = Response(404, "text/plain; charset=utf-8", b"not found\n")


class WebServer:
    def __init__(self, host: str, port: int, routes: Mapping[str, Route]) -> None:
        self._routes = dict(routes)
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="web-server", daemon=True)
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        routes = self._routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = routes.get(urlsplit(self.path).path)
                try:
                    response = route() if route is not None else NOT_FOUND
                except Exception as error:  # a broken page must not take the server down
                    logger.bind(actor="web").warning("GET {} failed: {}", urlsplit(self.path).path, error)
                    response = Response(500, "text/plain; charset=utf-8", b"internal error\n")
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(response.body)

            def log_message(self, *args: Any) -> None:  # scrapes every few seconds: not worth a log line
                pass

        return Handler

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
