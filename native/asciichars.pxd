"""ASCII helpers shared by the native modules (inline: no module of their own)."""

cdef inline int hex_digit(unsigned char c) noexcept:
    """The value of a hexadecimal digit (either case), or -1."""
    if b'0' <= c <= b'9':
        return c - 48
    if b'a' <= c <= b'f':
        return c - 87
    if b'A' <= c <= b'F':
        return c - 55
    return -1
