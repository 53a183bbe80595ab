/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_HTTP_TLS_LIB_H
#define WEFT_HTTP_TLS_LIB_H

/*
 * OpenSSL, loaded when the first TLS connection is set up rather than linked:
 * libssl and libcrypto are 1.7 MB resident, and a daemon that speaks plain
 * HTTP to etcd never needs them. client_tls.c calls OpenSSL through this table
 * (tls_calls.h maps the names); nothing else in weft uses OpenSSL.
 */
#include <stddef.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#if OPENSSL_VERSION_MAJOR != 3
#error "tls_lib loads libssl.so.3: OpenSSL 3 headers are needed"
#endif

#define TLS_LIB_SONAME "libssl.so.3"

/* X(return type, name, parameters): every OpenSSL function client_tls.c uses, after
 * OpenSSL's own macros (SSL_CTX_set_mode ...) are expanded. */
#define TLS_LIB_FUNCS(X)                                                                   \
	X(unsigned long, ERR_get_error, (void))                                            \
	X(unsigned long, ERR_peek_error, (void))                                           \
	X(void, ERR_error_string_n, (unsigned long e, char *buf, size_t len))              \
	X(void, ERR_clear_error, (void))                                                   \
	X(const SSL_METHOD *, TLS_client_method, (void))                                   \
	X(SSL_CTX *, SSL_CTX_new, (const SSL_METHOD *m))                                   \
	X(void, SSL_CTX_free, (SSL_CTX *ctx))                                              \
	X(long, SSL_CTX_ctrl, (SSL_CTX *ctx, int cmd, long larg, void *parg))              \
	X(void, SSL_CTX_set_verify, (SSL_CTX *ctx, int mode, SSL_verify_cb cb))            \
	X(int, SSL_CTX_load_verify_locations, (SSL_CTX *ctx, const char *f, const char *d)) \
	X(int, SSL_CTX_set_default_verify_paths, (SSL_CTX *ctx))                           \
	X(int, SSL_CTX_use_certificate_chain_file, (SSL_CTX *ctx, const char *f))          \
	X(int, SSL_CTX_use_PrivateKey_file, (SSL_CTX *ctx, const char *f, int type))        \
	X(int, SSL_CTX_check_private_key, (const SSL_CTX *ctx))                            \
	X(SSL *, SSL_new, (SSL_CTX *ctx))                                                  \
	X(void, SSL_free, (SSL *ssl))                                                      \
	X(int, SSL_set_fd, (SSL *ssl, int fd))                                             \
	X(void, SSL_set_connect_state, (SSL *ssl))                                         \
	X(long, SSL_ctrl, (SSL *ssl, int cmd, long larg, void *parg))                      \
	X(X509_VERIFY_PARAM *, SSL_get0_param, (SSL *ssl))                                 \
	X(int, X509_VERIFY_PARAM_set1_host, (X509_VERIFY_PARAM *p, const char *n, size_t l)) \
	X(int, X509_VERIFY_PARAM_set1_ip_asc, (X509_VERIFY_PARAM *p, const char *ip))      \
	X(int, SSL_do_handshake, (SSL *ssl))                                               \
	X(int, SSL_read, (SSL *ssl, void *buf, int num))                                   \
	X(int, SSL_write, (SSL *ssl, const void *buf, int num))                            \
	X(int, SSL_get_error, (const SSL *ssl, int ret))                                   \
	X(long, SSL_get_verify_result, (const SSL *ssl))                                   \
	X(const char *, X509_verify_cert_error_string, (long n))

#define TLS_LIB_MEMBER(ret, name, params) ret(*name) params;
struct tls_lib {
	TLS_LIB_FUNCS(TLS_LIB_MEMBER)
};
#undef TLS_LIB_MEMBER

extern struct tls_lib tls_lib;

/* Load OpenSSL once (later calls return at once); 0, or -ENOENT with what is
 * missing in errmsg. The table is valid from then on for the process's life. */
int tls_lib_load(char *errmsg, size_t len);

#endif
