/* LD_PRELOAD shim for the DHCP benchmark client (perfdhcp) only: every UDP
 * socket the process opens gets a receive buffer of $SHIM_RCVBUF bytes
 * (default 8 MiB) via SO_RCVBUFFORCE (root), without touching the
 * machine-wide net.core.rmem_default, which is global on this kernel.
 *
 * Why: a server that commits leases in groups sends the ACKs of one group
 * back to back; perfdhcp receives every simulated client on one socket with
 * the default 208 KiB buffer (about 90 DHCP replies), so a burst overflows
 * it (RcvbufErrors in the client namespace) although each real client would
 * have its own socket.
 *
 * Build: gcc -O2 -shared -fPIC -o rcvbuf_shim.so rcvbuf_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol)
{
    static int (*real)(int, int, int);
    if (!real)
        real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
    if (!real)
        return -1;
    int fd = real(domain, type, protocol);
    if (fd >= 0 && (domain == AF_INET || domain == AF_INET6) &&
        (type & 0xff) == SOCK_DGRAM) {
        const char *env = getenv("SHIM_RCVBUF");
        int size = env ? atoi(env) : 8 << 20;
        if (size > 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    }
    return fd;
}
