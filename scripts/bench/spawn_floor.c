/* The least a supervisor can do: keep JOBS copies of PROGRAM running, COUNT in all, with
 * posix_spawn and waitpid and nothing else (no output capture, no bookkeeping). Its time is
 * the floor under every tool's on the same machine. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: spawn_floor JOBS COUNT PROGRAM [ARG...]\n");
        return 2;
    }
    int jobs = atoi(argv[1]);
    long count = atol(argv[2]);
    long started = 0, running = 0;
    while (started < count || running > 0) {
        while (running < jobs && started < count) {
            pid_t pid;
            if (posix_spawn(&pid, argv[3], NULL, NULL, &argv[3], environ) != 0) {
                perror("posix_spawn");
                return 1;
            }
            started++;
            running++;
        }
        int status;
        if (waitpid(-1, &status, 0) > 0) running--;
    }
    return 0;
}
