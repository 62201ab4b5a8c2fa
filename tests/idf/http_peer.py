"""Plain-HTTP stand-in for httpbin.org in the test namespace: answers every
method and path with 200 and a small JSON body, and logs each request with
the client's address (which must be the app's, i.e. gonetif's)."""
import http.server
import json
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body_in = self.rfile.read(length) if length else b""
        print("request", self.client_address[0], self.command, self.path, len(body_in), flush=True)
        body = json.dumps({"method": self.command, "path": self.path, "len": len(body_in)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = answer

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
