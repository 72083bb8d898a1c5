#!/usr/bin/env python3
"""Serves the git repositories under ROOT over smart HTTP on 127.0.0.1:
`git http-backend` as CGI, optionally over TLS and behind Basic auth.

Used by the tests (tests/support/git_server.rs) and scripts/bench-source.sh.
Prints the port it listens on as the first line of stdout, then serves until
killed. Loopback only.

    git_http_server.py ROOT [--cert PEM --key PEM] [--user NAME:PASSWORD]
"""

import argparse
import base64
import http.server
import os
import ssl
import subprocess
import sys


def read_body(handler):
    """The request body, de-chunked if it came chunked."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body += handler.rfile.read(size)
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


class GitHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."
    credentials = None
    backend = "git-http-backend"

    def log_message(self, format, *args):
        pass

    def authorized(self):
        if self.credentials is None:
            return True
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                if base64.b64decode(header[6:]).decode() == self.credentials:
                    return True
            except ValueError:
                pass
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        return False

    def serve(self):
        if not self.authorized():
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                env[key] = value
        body = read_body(self) if self.command == "POST" else b""
        env["CONTENT_LENGTH"] = str(len(body))
        process = subprocess.Popen(
            [self.backend],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        process.stdin.write(body)
        process.stdin.close()
        status = "200 OK"
        headers = []
        while True:
            line = process.stdout.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = value.strip()
            else:
                headers.append((name, value.strip()))
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            while True:
                chunk = process.stdout.read1(1 << 16)
                if not chunk:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True
        process.stdout.close()
        process.wait()

    do_GET = serve
    do_POST = serve


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    args = parser.parse_args()
    exec_path = subprocess.run(
        ["git", "--exec-path"], check=True, capture_output=True, text=True
    ).stdout.strip()
    GitHandler.root = os.path.abspath(args.root)
    GitHandler.credentials = args.user
    GitHandler.backend = os.path.join(exec_path, "git-http-backend")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GitHandler)
    server.daemon_threads = True
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
