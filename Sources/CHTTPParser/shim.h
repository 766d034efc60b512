#ifndef UNDERSTUDY_CHTTPPARSER_SHIM_H
#define UNDERSTUDY_CHTTPPARSER_SHIM_H
#include <http_parser.h>
#endif
