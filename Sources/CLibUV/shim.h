#ifndef UNDERSTUDY_CLIBUV_SHIM_H
#define UNDERSTUDY_CLIBUV_SHIM_H
#include <uv.h>
#include <sys/prctl.h>

/* Names the calling thread (at most 15 bytes are kept). libuv has `uv_thread_setname` only from
   1.50 on, Debian 12 ships 1.44, and glibc's pthread_setname_np is hidden from Swift behind
   _GNU_SOURCE; prctl is variadic, so Swift cannot call it directly. */
static inline int understudy_name_current_thread(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}
#endif
