#ifndef UNDERSTUDY_CLIBUV_SHIM_H
#define UNDERSTUDY_CLIBUV_SHIM_H
#include <uv.h>
#endif
