// SPDX-License-Identifier: Apache-2.0
#include "http/tls_lib.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

struct tls_lib tls_lib;
static void *handle;

int tls_lib_load(char *errmsg, size_t len)
{
	void *h;

	if (handle)
		return 0;
	/* libcrypto comes along as libssl's dependency; dlsym on the handle
	 * searches both. */
	h = dlopen(TLS_LIB_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(errmsg, len, "TLS needs OpenSSL: cannot load %s: %s", TLS_LIB_SONAME,
			 dlerror());
		return -ENOENT;
	}
#define TLS_LIB_RESOLVE(ret, name, params)                                                 \
	{                                                                                  \
		void *sym = dlsym(h, #name);                                               \
		if (!sym) {                                                                \
			snprintf(errmsg, len, "%s lacks %s", TLS_LIB_SONAME, #name);      \
			goto fail;                                                         \
		}                                                                          \
		/* POSIX: a dlsym result converts to a function pointer this way. */     \
		memcpy(&tls_lib.name, &sym, sizeof(sym));                                  \
	}
	TLS_LIB_FUNCS(TLS_LIB_RESOLVE)
#undef TLS_LIB_RESOLVE
	handle = h;
	return 0;
fail:
	memset(&tls_lib, 0, sizeof(tls_lib));
	dlclose(h);
	return -ENOENT;
}
