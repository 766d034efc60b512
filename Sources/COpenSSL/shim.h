#ifndef UNDERSTUDY_COPENSSL_SHIM_H
#define UNDERSTUDY_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>

/* OpenSSL spells these as function-like macros, which Swift does not import. */
static inline int understudy_ssl_ctx_set_min_tls13(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
}

static inline long understudy_bio_pending(BIO *bio) {
    return (long)BIO_ctrl_pending(bio);
}
#endif
