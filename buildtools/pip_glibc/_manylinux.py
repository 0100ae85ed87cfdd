"""Put on PYTHONPATH while pip installs a function's requirements: packaging (pip's wheel-tag
logic) asks this module whether a manylinux_X_Y wheel may be used. Only wheels for the
glibc provided.al2023 has (2.34) are, whatever this machine's glibc is."""

LAMBDA_GLIBC = (2, 34)


def manylinux_compatible(tag_major, tag_minor, tag_arch):
    return (tag_major, tag_minor) <= LAMBDA_GLIBC
