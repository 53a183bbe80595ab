// SPDX-License-Identifier: Apache-2.0
/*
 * weft's CNI plugin (installed as "weft" and as "flannel").
 *
 * This first cut answers VERSION only; ADD, DEL and CHECK (reading subnet.env and
 * delegating to the reference bridge plugin) arrive with the CNI issue. Until then
 * every other command fails with a CNI error object, so a runtime never mistakes
 * it for a working plugin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CNI_SUPPORTED "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]"

int main(int argc, char **argv)
{
	const char *cmd = getenv("CNI_COMMAND");

	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
		printf("weft CNI plugin %s\nCNI protocol versions supported: %s\n", WEFT_VERSION,
		       CNI_SUPPORTED);
		return 0;
	}
	if (!cmd || !*cmd) {
		printf("{\"cniVersion\":\"1.1.0\",\"code\":4,"
		       "\"msg\":\"required env variable CNI_COMMAND is missing\"}\n");
		return 1;
	}
	if (!strcmp(cmd, "VERSION")) {
		printf("{\"cniVersion\":\"1.1.0\",\"supportedVersions\":" CNI_SUPPORTED "}\n");
		return 0;
	}
	printf("{\"cniVersion\":\"1.1.0\",\"code\":4,"
	       "\"msg\":\"CNI_COMMAND %s is not implemented by this build of weft\"}\n",
	       strlen(cmd) < 32 ? cmd : "(too long)");
	return 1;
}
