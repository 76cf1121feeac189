"""A tiny HTTPS "what is my IP" echo for smoke-testing the static binaries' TLS stack.

Usage: tls-echo.py DIR. Serves the body "203.0.113.9" on two loopback ports: one TLS 1.3 only
with DIR/ec.{crt,key}, one TLS 1.2 only with DIR/rsa.{crt,key}. Prints "PORT13 PORT12", then
serves until killed.
"""
import http.server
import ssl
import sys
import threading


class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"203.0.113.9\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(cert, key, version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = version
    ctx.maximum_version = version
    ctx.load_cert_chain(cert, key)
    server = http.server.HTTPServer(("127.0.0.1", 0), Echo)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def main():
    d = sys.argv[1]
    p13 = serve(f"{d}/ec.crt", f"{d}/ec.key", ssl.TLSVersion.TLSv1_3)
    p12 = serve(f"{d}/rsa.crt", f"{d}/rsa.key", ssl.TLSVersion.TLSv1_2)
    print(p13, p12, flush=True)
    threading.Event().wait()


main()
