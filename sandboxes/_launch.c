/*
 * labgate-launch: what root does before a sandboxed command starts, in one exec.
 *
 *   labgate-launch [--join=FILE]... [--rlimit=NAME:VALUE]... [--uid=N] -- /ABSOLUTE/PROGRAM [ARG]...
 *
 * In order: write 0 to each cgroup FILE (v1 `tasks` moves the writing thread, v2 `cgroup.procs` the
 * process, before anything can fork), set each rlimit (soft = hard), and with --uid drop root for good
 * (ambient and bounding capabilities, supplementary groups, gid, uid, inheritable capabilities, then
 * no_new_privs); every step is checked and any failure exits 126 before PROGRAM runs. It replaces a
 * chain of three programs (a shell that joins the cgroups, setpriv, prlimit) whose execs cost about
 * 2 ms per command.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "labgate-launch: %s%s%s: %s\n", what, detail[0] ? " " : "", detail, strerror(errno));
    _exit(126);
}

static void refuse(const char *what, const char *detail) {
    fprintf(stderr, "labgate-launch: %s %s\n", what, detail);
    _exit(126);
}

static unsigned long long number(const char *text, const char *what) {
    char *end = NULL;
    errno = 0;
    if (text[0] < '0' || text[0] > '9') refuse(what, text);
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') refuse(what, text);
    return value;
}

static const struct {
    const char *name;
    int resource;
} RLIMITS[] = {
    {"cpu", RLIMIT_CPU},       {"core", RLIMIT_CORE},     {"as", RLIMIT_AS},
    {"fsize", RLIMIT_FSIZE},   {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC},
};

static void join(const char *file) {
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail("cannot open", file);
    if (write(fd, "0", 1) != 1) fail("cannot join", file);
    if (close(fd) != 0) fail("cannot join", file);
}

static void limit(const char *spec) {
    const char *colon = strchr(spec, ':');
    if (colon == NULL) refuse("an rlimit must be NAME:VALUE, not", spec);
    for (size_t i = 0; i < sizeof RLIMITS / sizeof RLIMITS[0]; i++) {
        if (strlen(RLIMITS[i].name) == (size_t)(colon - spec) && strncmp(spec, RLIMITS[i].name, colon - spec) == 0) {
            rlim_t value = (rlim_t)number(colon + 1, "an rlimit's value must be a number, not");
            struct rlimit both = {value, value};
            if (setrlimit(RLIMITS[i].resource, &both) != 0) fail("cannot set rlimit", spec);
            return;
        }
    }
    refuse("unknown rlimit", spec);
}

static void become(uid_t uid) {
    if (uid == 0) refuse("--uid must not be root:", "0");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) fail("cannot clear", "ambient capabilities");
    for (int cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            if (errno == EINVAL) break; /* past the kernel's last capability */
            fail("cannot drop from the bounding set a capability", "");
        }
    }
    if (setgroups(0, NULL) != 0) fail("cannot clear", "supplementary groups");
    if (setresgid(uid, uid, uid) != 0) fail("cannot set", "gid");
    if (setresuid(uid, uid, uid) != 0) fail("cannot set", "uid");
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct none[2];
    memset(none, 0, sizeof none);
    if (syscall(SYS_capset, &header, none) != 0) fail("cannot clear", "capabilities");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("cannot set", "no_new_privs");

    /* Check rather than trust: any privilege left here would pass to the command. */
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    struct __user_cap_data_struct held[2];
    if (getresuid(&ruid, &euid, &suid) != 0 || ruid != uid || euid != uid || suid != uid) refuse("uid not dropped", "");
    if (getresgid(&rgid, &egid, &sgid) != 0 || rgid != uid || egid != uid || sgid != uid) refuse("gid not dropped", "");
    if (getgroups(0, NULL) != 0) refuse("supplementary groups left", "");
    if (syscall(SYS_capget, &header, held) != 0) fail("cannot read", "capabilities");
    for (int i = 0; i < 2; i++) {
        if (held[i].effective || held[i].permitted || held[i].inheritable) refuse("capabilities left", "");
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) refuse("no_new_privs not set", "");
    for (int cap = 0; cap < 64; cap++) {
        int held_in_set = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (held_in_set < 0) break; /* past the kernel's last capability */
        if (held_in_set != 0) refuse("bounding set not empty", "");
    }
}

int main(int argc, char **argv) {
    long long uid = -1;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (strncmp(arg, "--join=", 7) == 0) {
            join(arg + 7);
        } else if (strncmp(arg, "--rlimit=", 9) == 0) {
            limit(arg + 9);
        } else if (strncmp(arg, "--uid=", 6) == 0) {
            unsigned long long value = number(arg + 6, "--uid must be a number, not");
            if (value > 0xFFFFFFFEull) refuse("--uid out of range:", arg + 6);
            uid = (long long)value;
        } else {
            refuse("unknown option", arg);
        }
    }
    if (i >= argc) refuse("no program given after", "--");
    if (argv[i][0] != '/') refuse("the program must be an absolute path, not", argv[i]);
    if (uid >= 0) become((uid_t)uid);
    execv(argv[i], argv + i);
    fail("cannot run", argv[i]);
    return 126;
}
