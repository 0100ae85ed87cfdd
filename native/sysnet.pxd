"""libc declarations for the socket client, grouped by header. Extern only: no module."""

cdef extern from "errno.h" nogil:
    int errno
    enum:
        EINTR
        EAGAIN
        EWOULDBLOCK
        EPIPE
        ECONNRESET
        ECONNREFUSED
        EINPROGRESS

cdef extern from "string.h" nogil:
    char *strerror(int errnum)

cdef extern from "unistd.h" nogil:
    int close(int fd)
    ssize_t read(int fd, void *buf, size_t count)

cdef extern from "sys/uio.h" nogil:
    struct iovec:
        void *iov_base
        size_t iov_len

cdef extern from "sys/socket.h" nogil:
    ctypedef unsigned int socklen_t
    struct sockaddr:
        pass
    struct msghdr:
        void *msg_name
        socklen_t msg_namelen
        iovec *msg_iov
        size_t msg_iovlen
        void *msg_control
        size_t msg_controllen
        int msg_flags
    enum:
        SOCK_STREAM
        SOCK_CLOEXEC
        MSG_NOSIGNAL
        SOL_SOCKET
        SO_KEEPALIVE
        SO_RCVTIMEO
    int socket(int domain, int type, int protocol)
    int connect(int fd, const sockaddr *addr, socklen_t len)
    ssize_t recv(int fd, void *buf, size_t n, int flags)
    ssize_t sendmsg(int fd, const msghdr *msg, int flags)
    int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)

cdef extern from "netinet/in.h" nogil:
    enum:
        IPPROTO_TCP

cdef extern from "netinet/tcp.h" nogil:
    enum:
        TCP_NODELAY

cdef extern from "netdb.h" nogil:
    struct addrinfo:
        int ai_flags
        int ai_family
        int ai_socktype
        int ai_protocol
        socklen_t ai_addrlen
        sockaddr *ai_addr
        char *ai_canonname
        addrinfo *ai_next
    int getaddrinfo(const char *node, const char *service, const addrinfo *hints, addrinfo **res)
    void freeaddrinfo(addrinfo *res)
    const char *gai_strerror(int errcode)

cdef extern from "poll.h" nogil:
    struct pollfd:
        int fd
        short events
        short revents
    enum:
        POLLIN
    int poll(pollfd *fds, unsigned long nfds, int timeout)

cdef extern from "sys/time.h" nogil:
    struct timeval:
        long tv_sec
        long tv_usec

cdef extern from "time.h" nogil:
    struct timespec:
        long tv_sec
        long tv_nsec
    enum:
        CLOCK_REALTIME
        CLOCK_MONOTONIC
    int clock_gettime(int clk_id, timespec *tp)
