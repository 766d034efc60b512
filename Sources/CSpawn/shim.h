#ifndef UNDERSTUDY_CSPAWN_SHIM_H
#define UNDERSTUDY_CSPAWN_SHIM_H
// glibc's posix_spawn, the two GNU file actions a child process needs (glibc 2.29 and 2.34), and
// pipe2 for its pipes. The headers declare these only under _GNU_SOURCE, which Swift's Glibc
// module is built without; the declarations below are glibc's own.
#include <spawn.h>
#include <unistd.h>

extern int pipe2(int fds[2], int flags);

extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *__restrict actions,
                                                const char *__restrict path);
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
#endif
