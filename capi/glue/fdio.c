/*
 * The POSIX descriptor calls, process-wide: gonetif descriptors go to the
 * stack, every other descriptor straight to the kernel. IDF's Linux port
 * gets the same effect with --wrap or its VFS; providing the names in the
 * archive needs no special link flags.
 */
#define GONETIF_HOST_SOCKETS 1
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "glue.h"
#include "lwip/sockets.h"

int close(int fd)
{
    if (gonetif_slot(fd)) {
        return lwip_close(fd);
    }
    return (int)syscall(SYS_close, fd);
}

ssize_t read(int fd, void *buf, size_t count)
{
    if (gonetif_slot(fd)) {
        return lwip_read(fd, buf, count);
    }
    return syscall(SYS_read, fd, buf, count);
}

ssize_t write(int fd, const void *buf, size_t count)
{
    if (gonetif_slot(fd)) {
        return lwip_write(fd, buf, count);
    }
    return syscall(SYS_write, fd, buf, count);
}

ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
    if (gonetif_slot(fd)) {
        return lwip_readv(fd, iov, iovcnt);
    }
    return syscall(SYS_readv, fd, iov, iovcnt);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    if (gonetif_slot(fd)) {
        return lwip_writev(fd, iov, iovcnt);
    }
    return syscall(SYS_writev, fd, iov, iovcnt);
}

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    /* Every fcntl argument fits in a long (int or pointer). */
    long arg = va_arg(ap, long);
    va_end(ap);
    if (gonetif_slot(fd)) {
        return lwip_fcntl(fd, cmd, (int)arg);
    }
    return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (gonetif_slot(fd)) {
        return lwip_ioctl(fd, (long)request, arg);
    }
    return (int)syscall(SYS_ioctl, fd, request, arg);
}

/* _FORTIFY_SOURCE turns read() into __read_chk(), which would reach the
 * kernel directly; route it the same way. */
ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen)
{
    if (nbytes > buflen) {
        abort();
    }
    return read(fd, buf, nbytes);
}
