/* labgate-filter: install a seccomp program, then run the command with it in force.
 *
 * Usage: labgate-filter HEX COMMAND [ARG...]
 * HEX is the program as bubblewrap reads it (struct sock_filter records) in hexadecimal. The Docker
 * backend starts every command through this binary, mounted read-only into the container, so the
 * calls the local backend refuses (`_seccomp.py`) are refused there too, on top of the engine's own
 * profile. Any failure before the command runs exits 126, with the reason on stderr; a command that
 * is not found exits 127.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fputs("labgate-filter: usage: labgate-filter HEX COMMAND [ARG...]\n", stderr);
        return 126;
    }
    size_t digits = strlen(argv[1]);
    size_t bytes = digits / 2;
    if (digits == 0 || digits % 2 != 0 || bytes % sizeof(struct sock_filter) != 0 ||
        bytes / sizeof(struct sock_filter) > BPF_MAXINSNS) {
        fputs("labgate-filter: the program is not whole BPF instructions in hexadecimal\n", stderr);
        return 126;
    }
    unsigned char *code = malloc(bytes);
    if (code == NULL) {
        fputs("labgate-filter: out of memory\n", stderr);
        return 126;
    }
    for (size_t i = 0; i < bytes; ++i) {
        int high = nibble(argv[1][2 * i]), low = nibble(argv[1][2 * i + 1]);
        if (high < 0 || low < 0) {
            fputs("labgate-filter: the program is not hexadecimal\n", stderr);
            return 126;
        }
        code[i] = (unsigned char)(high << 4 | low);
    }
    struct sock_fprog program = {
        .len = (unsigned short)(bytes / sizeof(struct sock_filter)),
        .filter = (struct sock_filter *)code,
    };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        fprintf(stderr, "labgate-filter: no_new_privs: %s\n", strerror(errno));
        return 126;
    }
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
        fprintf(stderr, "labgate-filter: seccomp: %s\n", strerror(errno));
        return 126;
    }
    free(code);
    execvp(argv[2], argv + 2);
    int error = errno;
    fprintf(stderr, "labgate-filter: %s: %s\n", argv[2], strerror(error));
    return error == ENOENT ? 127 : 126;
}
