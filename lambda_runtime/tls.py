"""The CA bundle for whichever OpenSSL the process loaded.

On Lambda the system's libssl (al2023's) is used when present, the shipped one otherwise
(buildtools/shared_libs.py). al2023's OpenSSL looks for certificates under /etc/pki/tls,
where the CA bundle is; the shipped one (Debian's) looks under /usr/lib/ssl, which Lambda
does not have, so certificate verification would find no CA at all. When `ssl` is first
imported and the loaded OpenSSL's default locations hold nothing, SSL_CERT_FILE is pointed
at the system's bundle (OpenSSL reads it each time default paths are loaded). An
SSL_CERT_FILE or SSL_CERT_DIR the user set is never changed.
"""

import os

SYSTEM_CA_BUNDLES = (
    "/etc/pki/tls/certs/ca-bundle.crt",       # Amazon Linux 2023 (provided.al2023)
    "/etc/ssl/certs/ca-certificates.crt",     # Debian, Ubuntu
)


def use_system_ca_bundle(ssl, environ=os.environ, bundles=SYSTEM_CA_BUNDLES):
    """Run after `ssl` is imported. Returns the bundle it chose, or None."""
    if "SSL_CERT_FILE" in environ or "SSL_CERT_DIR" in environ:
        return None
    paths = ssl.get_default_verify_paths()  # cafile/capath are None when they do not exist
    if paths.cafile or (paths.capath and os.listdir(paths.capath)):
        return None
    for bundle in bundles:
        if os.path.exists(bundle):
            environ["SSL_CERT_FILE"] = bundle
            return bundle
    return None
