#ifndef UNDERSTUDY_CISAL_SHIM_H
#define UNDERSTUDY_CISAL_SHIM_H
// Intel ISA-L's CRC-32 (the gzip/zlib polynomial, with zlib's pre- and post-inversion):
// crc32_gzip_refl(seed, buffer, length) equals zlib's crc32(seed, buffer, length).
#include <isa-l/crc.h>
#endif
