"""Real local services for the end-to-end tests of real functions: moto's server (S3,
DynamoDB, SQS, SSM on 127.0.0.1) and an HTTPS server whose certificate is signed by a CA
made here, plus a runner for the same handler under awslambdaric."""

import datetime
import http.server
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

from devtools.mock_runtime_api import MockRuntimeAPI, lambda_env
from devtools.ports import free_port

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}


class MotoServer:
    """`python -m moto.server` on 127.0.0.1, reset between uses."""

    def __init__(self):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).read()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("moto server did not start")
                time.sleep(0.1)

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/moto-api/reset", method="POST"), timeout=10).read()

    def env(self):
        return dict(DUMMY_CREDENTIALS, AWS_ENDPOINT_URL=self.url)

    def stop(self):
        self.process.kill()
        self.process.wait()


def make_ca_and_server_cert(directory):
    """(ca_pem_path, cert_pem_path, key_pem_path): a CA and a 127.0.0.1 certificate it signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lambda-native test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = [os.path.join(directory, name) for name in ("ca.pem", "server.pem", "server.key")]
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


class TlsServer:
    """An HTTPS server on 127.0.0.1 answering every GET with "hello over tls"."""

    BODY = "hello over tls"

    def __init__(self, directory):
        self.ca, cert, key = make_ca_and_server_cert(directory)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler):
                body = self.BODY.encode()
                handler.send_response(200)
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "https://127.0.0.1:%d/" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def run_awslambdaric(handler, events, src, path=(), env=None, timeout=60):
    """The results awslambdaric posts for the events, with `src` as the task root and
    `path` (e.g. the build's requirements directory) on PYTHONPATH."""
    with MockRuntimeAPI() as api:
        environ = lambda_env(sys.executable, api.address, handler=handler, env=env)
        environ["LAMBDA_TASK_ROOT"] = src
        environ["PYTHONPATH"] = os.pathsep.join([src] + list(path))
        process = subprocess.Popen([sys.executable, "-m", "awslambdaric", handler], cwd=src, env=environ,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            return [api.wait_result(api.enqueue(event), timeout=timeout) for event in events]
        finally:
            process.kill()
            process.communicate()
