// A TCP server on the socket granted with --listen (descriptor 3): wait for a
// connection with poll, accept it, peek, read until the client shuts down its side,
// answer in upper case, shut down. sock_accept, sock_recv, sock_send and
// sock_shutdown through wasi-libc.
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void outcome(const char *what, long result) {
    printf("%-40s %s\n", what, result < 0 ? strerror(errno) : "ok");
}

int main(void) {
    struct stat st;
    outcome("fstat(3)", fstat(3, &st));
    printf("  descriptor 3 is a socket: %s\n", S_ISSOCK(st.st_mode) ? "yes" : "no");
    char scratch[8];
    outcome("recv on the listener", recv(3, scratch, sizeof scratch, 0));
    struct pollfd listener = {.fd = 3, .events = POLLIN};
    outcome("poll for a connection", poll(&listener, 1, 30000) == 1 ? 0 : -1);
    int conn = accept(3, NULL, NULL);
    outcome("accept", conn);
    outcome("accept on the connection", accept(conn, NULL, NULL));
    char peek[6] = {0};
    ssize_t n = recv(conn, peek, 5, MSG_PEEK);
    outcome("recv with MSG_PEEK", n);
    printf("  peeked: %s\n", peek);
    char request[256] = {0};
    size_t total = 0;
    while ((n = recv(conn, request + total, sizeof request - 1 - total, 0)) > 0) total += n;
    outcome("recv until the client shuts down", n);
    printf("  received %zu bytes\n", total);
    for (size_t i = 0; i < total; i++) request[i] = toupper((unsigned char)request[i]);
    size_t sent = 0;
    while (sent < total) {
        n = send(conn, request + sent, total - sent, 0);
        if (n <= 0) break;
        sent += n;
    }
    outcome("send the reply", n);
    outcome("shutdown(SHUT_WR)", shutdown(conn, SHUT_WR));
    outcome("shutdown on a regular descriptor", shutdown(1, SHUT_WR));
    outcome("close", close(conn));
    return 0;
}
