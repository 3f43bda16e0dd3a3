#ifndef PS_SYSCALL_H
#define PS_SYSCALL_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <linux/sched.h>

static const int PS_CLONE_NEWNS = CLONE_NEWNS;
static const int PS_CLONE_NEWPID = CLONE_NEWPID;
static const int PS_CLONE_NEWIPC = CLONE_NEWIPC;
static const int PS_CLONE_NEWUTS = CLONE_NEWUTS;
static const int PS_CLONE_NEWNET = CLONE_NEWNET;
static const int PS_CLONE_NEWUSER = CLONE_NEWUSER;
static const int PS_CLONE_NEWCGROUP = CLONE_NEWCGROUP;
static const int PS_PR_SET_PDEATHSIG = PR_SET_PDEATHSIG;
static const int PS_PR_SET_NO_NEW_PRIVS = PR_SET_NO_NEW_PRIVS;
static const int PS_PR_CAPBSET_DROP = PR_CAPBSET_DROP;
static const int PS_PR_CAP_AMBIENT = PR_CAP_AMBIENT;
static const int PS_PR_CAP_AMBIENT_CLEAR_ALL = PR_CAP_AMBIENT_CLEAR_ALL;
static const int PS_PR_SET_DUMPABLE = PR_SET_DUMPABLE;

/// Wrappers for syscalls and constants that Glibc does not expose to Swift.
int ps_pivot_root(const char *new_root, const char *put_old);
int ps_setns(int fd, int nstype);
int ps_unshare(int flags);
int ps_pidfd_open(pid_t pid, unsigned int flags);
int ps_close_range(unsigned int first, unsigned int last, unsigned int flags);
int ps_seccomp_set_filter(const void *instructions, unsigned short count);
int ps_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5);
pid_t ps_fork(void);

/// Sets real, effective and saved ids at once (glibc hides setresuid/setresgid without _GNU_SOURCE).
int ps_setresuid(uid_t uid);
int ps_setresgid(gid_t gid);

/// Sends `length` bytes and `count` file descriptors (SCM_RIGHTS) in one message. Returns bytes sent or -1.
long ps_send_fds(int socket, const void *bytes, unsigned long length, const int *fds, int count);

/// Receives one message of at most `capacity` bytes and up to `max_fds` descriptors (made close-on-exec).
/// Stores how many descriptors arrived in `*received_fds`. Returns bytes received, 0 at end of stream, or -1.
long ps_recv_fds(int socket, void *bytes, unsigned long capacity, int *fds, int max_fds, int *received_fds);

/// A device number from its major and minor parts (glibc's makedev is a macro Swift cannot call).
unsigned long ps_makedev(unsigned int major, unsigned int minor);

/// Sends a signal to the process a pidfd refers to (never to a recycled pid).
int ps_pidfd_send_signal(int pidfd, int signal);

/// pipe2 with O_CLOEXEC, so a concurrently spawned process never inherits the pipe.
int ps_pipe_cloexec(int fds[2]);

/// The file system magic number of the file system holding `path` (statfs f_type), or -1.
long ps_statfs_type(const char *path);

/// The audit architecture constant of the machine this was compiled for.
uint32_t ps_audit_arch(void);

#endif
