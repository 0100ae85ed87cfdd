/* The floor for the warm-CPU benchmark: the echo loop in plain C, like the ultra-slim C
 * runtime this project replaces -- libc sockets, the event returned as raw bytes, no JSON,
 * no context, no error handling beyond exiting. What the kernel and the mock cost per
 * invocation, with no runtime work at all.
 *
 *   echo_runtime            GET /next, then POST /response, each waiting for its answer
 *   echo_runtime pipelined  POST /response and the next GET /next in one write (as the
 *                           bootstrap does)
 *
 * Built by bench/run.py with the system C compiler (cc -O2); not part of the product.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static char buf[8 << 20];
static size_t have; /* bytes in buf */

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void send_all(int fd, struct iovec *iov, int n) {
    while (n > 0) {
        ssize_t sent = writev(fd, iov, n);
        if (sent < 0)
            die("writev");
        while (n > 0 && (size_t)sent >= iov->iov_len) {
            sent -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + sent;
            iov->iov_len -= sent;
        }
    }
}

static const char *header(const char *head, const char *name, size_t *len) {
    size_t n = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, name, n) == 0 && line[2 + n] == ':') {
            const char *value = line + 3 + n;
            while (*value == ' ')
                value++;
            *len = strcspn(value, "\r");
            return value;
        }
    }
    return NULL;
}

/* Reads one response (Content-Length framing); its body is buf[*body, *body + *body_len),
 * the whole message buf[0, *total). */
static void read_response(int fd, size_t *body, size_t *body_len, size_t *total) {
    char *end;
    for (;;) {
        buf[have] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) != NULL)
            break;
        ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
        if (n <= 0)
            exit(n == 0 ? 0 : 1);
        have += n;
    }
    size_t len = 0;
    const char *cl = header(buf, "Content-Length", &len);
    *body = end + 4 - buf;
    *body_len = cl ? strtoul(cl, NULL, 10) : 0;
    *total = *body + *body_len;
    while (have < *total) {
        ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
        if (n <= 0)
            exit(n == 0 ? 0 : 1);
        have += n;
    }
}

static void drop(size_t total) {
    memmove(buf, buf + total, have - total);
    have -= total;
}

int main(int argc, char **argv) {
    int pipelined = argc > 1 && strcmp(argv[1], "pipelined") == 0;
    char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api)
        return 2;
    char host[256];
    snprintf(host, sizeof(host), "%s", api);
    char *port = strrchr(host, ':');
    *port++ = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        die("getaddrinfo");
    int fd = socket(ai->ai_family, SOCK_STREAM, 0), one = 1;
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        die("connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";
    static char event[8 << 20];
    char head[512];
    struct iovec iov[3] = {{(void *)next, sizeof(next) - 1}};
    send_all(fd, iov, 1);
    for (;;) {
        size_t body, body_len, total, id_len;
        read_response(fd, &body, &body_len, &total);
        const char *id = header(buf, "Lambda-Runtime-Aws-Request-Id", &id_len);
        if (!id || id_len > 128)
            return 1;
        int head_len = snprintf(head, sizeof(head),
                                "POST /2018-06-01/runtime/invocation/%.*s/response HTTP/1.1\r\n"
                                "Host: x\r\nContent-Length: %zu\r\n\r\n", (int)id_len, id, body_len);
        memcpy(event, buf + body, body_len);
        drop(total);
        iov[0] = (struct iovec){head, head_len};
        iov[1] = (struct iovec){event, body_len};
        iov[2] = (struct iovec){(void *)next, sizeof(next) - 1};
        send_all(fd, iov, pipelined ? 3 : 2);
        read_response(fd, &body, &body_len, &total); /* the 202 */
        drop(total);
        if (!pipelined) {
            iov[0] = (struct iovec){(void *)next, sizeof(next) - 1};
            send_all(fd, iov, 1);
        }
    }
}
