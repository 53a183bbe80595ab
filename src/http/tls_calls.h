/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_HTTP_TLS_CALLS_H
#define WEFT_HTTP_TLS_CALLS_H

/*
 * For client_tls.c only, after the OpenSSL headers: OpenSSL's names call through
 * tls_lib's table, so that the code reads as plain OpenSSL while the library
 * is loaded on demand (tls_lib.h). OpenSSL's own macros (SSL_CTX_set_mode,
 * SSL_set_tlsext_host_name ...) expand to names mapped here.
 */
#include "http/tls_lib.h"

#define ERR_get_error tls_lib.ERR_get_error
#define ERR_peek_error tls_lib.ERR_peek_error
#define ERR_error_string_n tls_lib.ERR_error_string_n
#define ERR_clear_error tls_lib.ERR_clear_error
#define TLS_client_method tls_lib.TLS_client_method
#define SSL_CTX_new tls_lib.SSL_CTX_new
#define SSL_CTX_free tls_lib.SSL_CTX_free
#define SSL_CTX_ctrl tls_lib.SSL_CTX_ctrl
#define SSL_CTX_set_verify tls_lib.SSL_CTX_set_verify
#define SSL_CTX_load_verify_locations tls_lib.SSL_CTX_load_verify_locations
#define SSL_CTX_set_default_verify_paths tls_lib.SSL_CTX_set_default_verify_paths
#define SSL_CTX_use_certificate_chain_file tls_lib.SSL_CTX_use_certificate_chain_file
#define SSL_CTX_use_PrivateKey_file tls_lib.SSL_CTX_use_PrivateKey_file
#define SSL_CTX_check_private_key tls_lib.SSL_CTX_check_private_key
#define SSL_new tls_lib.SSL_new
#define SSL_free tls_lib.SSL_free
#define SSL_set_fd tls_lib.SSL_set_fd
#define SSL_set_connect_state tls_lib.SSL_set_connect_state
#define SSL_ctrl tls_lib.SSL_ctrl
#define SSL_get0_param tls_lib.SSL_get0_param
#define X509_VERIFY_PARAM_set1_host tls_lib.X509_VERIFY_PARAM_set1_host
#define X509_VERIFY_PARAM_set1_ip_asc tls_lib.X509_VERIFY_PARAM_set1_ip_asc
#define SSL_do_handshake tls_lib.SSL_do_handshake
#define SSL_read tls_lib.SSL_read
#define SSL_write tls_lib.SSL_write
#define SSL_get_error tls_lib.SSL_get_error
#define SSL_get_verify_result tls_lib.SSL_get_verify_result
#define X509_verify_cert_error_string tls_lib.X509_verify_cert_error_string

#endif
