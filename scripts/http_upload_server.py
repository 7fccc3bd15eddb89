#!/usr/bin/env python3
"""A small HTTP server for DVC's HTTP remote, for the integration tests (stdlib only).

DVC's HTTP remote (dvc-http over fsspec) uploads with POST (or PUT when the remote sets
`method = PUT`) to `<url>/<key>`, streaming the body with `Transfer-Encoding: chunked`,
and reads and checks objects with GET. This server stores each upload under `--root`,
writing to a temporary file and renaming it only once the whole body has arrived, so a
broken upload never leaves a partial object.

    http_upload_server.py --root DIR --port N [--user U --password P]
                          [--header NAME --token VALUE] [--log FILE]

With --user/--password every request needs HTTP Basic auth; with --header/--token it
needs `NAME: VALUE`. Each request is appended to --log as `METHOD PATH STATUS`.
"""

import argparse
import base64
import os
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

LOG_LOCK = threading.Lock()


class IncompleteBody(Exception):
    pass


def make_handler(args):
    root = os.path.realpath(args.root)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet
            pass

        def _log(self, status):
            if args.log:
                with LOG_LOCK, open(args.log, "a") as f:
                    f.write(f"{self.command} {self.path} {status}\n")

        def _reply(self, status, body=b"", headers=None):
            self._log(status)
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def _authorized(self):
            if args.user is not None:
                want = "Basic " + base64.b64encode(
                    f"{args.user}:{args.password}".encode()
                ).decode()
                if self.headers.get("Authorization") != want:
                    return False
            if args.header is not None:
                if self.headers.get(args.header) != args.token:
                    return False
            return True

        def _path(self):
            rel = unquote(urlsplit(self.path).path).lstrip("/")
            full = os.path.realpath(os.path.join(root, rel))
            if full != root and not full.startswith(root + os.sep):
                return None
            return full

        def _read_body(self, out):
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                while True:
                    line = self.rfile.readline()
                    if not line:
                        raise IncompleteBody()
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        # trailers until an empty line
                        while True:
                            t = self.rfile.readline()
                            if not t:
                                raise IncompleteBody()
                            if t in (b"\r\n", b"\n"):
                                return
                    remaining = size
                    while remaining:
                        data = self.rfile.read(min(remaining, 1 << 20))
                        if not data:
                            raise IncompleteBody()
                        out.write(data)
                        remaining -= len(data)
                    if self.rfile.readline() not in (b"\r\n", b"\n"):
                        raise IncompleteBody()
            else:
                remaining = int(self.headers.get("Content-Length", "0"))
                while remaining:
                    data = self.rfile.read(min(remaining, 1 << 20))
                    if not data:
                        raise IncompleteBody()
                    out.write(data)
                    remaining -= len(data)

        def _get(self):
            if not self._authorized():
                return self._reply(401, b"unauthorized", {"WWW-Authenticate": "Basic"})
            path = self._path()
            if path is None or not os.path.isfile(path):
                return self._reply(404, b"not found")
            with open(path, "rb") as f:
                data = f.read()
            self._reply(200, data, {"Content-Type": "application/octet-stream"})

        do_GET = _get
        do_HEAD = _get

        def _upload(self):
            if not self._authorized():
                # Drain nothing: close the connection after answering.
                self.close_connection = True
                return self._reply(401, b"unauthorized", {"WWW-Authenticate": "Basic"})
            path = self._path()
            if path is None:
                self.close_connection = True
                return self._reply(400, b"bad path")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = os.path.join(
                os.path.dirname(path), "." + secrets.token_urlsafe(16) + ".tmp"
            )
            try:
                with open(tmp, "wb") as out:
                    self._read_body(out)
                os.replace(tmp, path)
            except (IncompleteBody, ConnectionError, ValueError):
                self.close_connection = True
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
                self._log("incomplete")
                return
            self._reply(200 if self.command == "PUT" else 201)

        do_POST = _upload
        do_PUT = _upload

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--header")
    p.add_argument("--token")
    p.add_argument("--log")
    args = p.parse_args()
    os.makedirs(args.root, exist_ok=True)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args))
    server.daemon_threads = True
    print(f"listening on http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
