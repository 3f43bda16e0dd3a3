#define _GNU_SOURCE
#include "ps_syscall.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <string.h>
#include <errno.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <fcntl.h>
#include <unistd.h>

int ps_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int ps_setns(int fd, int nstype) { return setns(fd, nstype); }

int ps_unshare(int flags) { return unshare(flags); }

int ps_pidfd_open(pid_t pid, unsigned int flags) {
    return (int)syscall(SYS_pidfd_open, pid, flags);
}

int ps_close_range(unsigned int first, unsigned int last, unsigned int flags) {
    return (int)syscall(SYS_close_range, first, last, flags);
}

int ps_seccomp_set_filter(const void *instructions, unsigned short count) {
    struct sock_fprog prog = { .len = count, .filter = (struct sock_filter *)instructions };
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

int ps_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5) {
    return prctl(option, arg2, arg3, arg4, arg5);
}

pid_t ps_fork(void) { return fork(); }

uint32_t ps_audit_arch(void) {
#if defined(__x86_64__)
    return AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    return AUDIT_ARCH_AARCH64;
#else
    return 0;
#endif
}

long ps_statfs_type(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    return (long)info.f_type;
}

int ps_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

unsigned long ps_makedev(unsigned int major, unsigned int minor) { return (unsigned long)makedev(major, minor); }
int ps_setresuid(uid_t uid) { return setresuid(uid, uid, uid); }
int ps_setresgid(gid_t gid) { return setresgid(gid, gid, gid); }

long ps_send_fds(int socket, const void *bytes, unsigned long length, const int *fds, int count) {
    if (count < 0 || count > 32) { errno = EINVAL; return -1; }
    char control[CMSG_SPACE(sizeof(int) * 32)];
    memset(control, 0, sizeof(control));
    struct iovec iov = { .iov_base = (void *)bytes, .iov_len = length };
    struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (count > 0) {
        message.msg_control = control;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
    }
    long sent;
    do { sent = sendmsg(socket, &message, MSG_NOSIGNAL); } while (sent < 0 && errno == EINTR);
    return sent;
}

long ps_recv_fds(int socket, void *bytes, unsigned long capacity, int *fds, int max_fds, int *received_fds) {
    *received_fds = 0;
    if (max_fds < 0 || max_fds > 32) { errno = EINVAL; return -1; }
    char control[CMSG_SPACE(sizeof(int) * 32)];
    struct iovec iov = { .iov_base = bytes, .iov_len = capacity };
    struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control) };
    long received;
    do { received = recvmsg(socket, &message, MSG_CMSG_CLOEXEC); } while (received < 0 && errno == EINTR);
    if (received < 0) return -1;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        int arrived = (int)((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *data = (int *)CMSG_DATA(header);
        for (int i = 0; i < arrived; i++) {
            if (*received_fds < max_fds) fds[(*received_fds)++] = data[i];
            else close(data[i]);
        }
    }
    if (message.msg_flags & MSG_CTRUNC) {
        for (int i = 0; i < *received_fds; i++) close(fds[i]);
        *received_fds = 0;
        errno = EMSGSIZE;
        return -1;
    }
    return received;
}

int ps_pidfd_send_signal(int pidfd, int signal) { return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0); }
