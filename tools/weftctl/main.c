// SPDX-License-Identifier: Apache-2.0
/*
 * weftctl: the operator tool. A table of commands, each in its own file; a new
 * one adds a row.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "core/version.h"
#include "weftctl.h"


struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{"config", cmd_config, "check a network config (net-conf.json), or put it into etcd"},
	{"leases", cmd_leases, "list the subnet leases and reservations in etcd"},
	{"reserve", cmd_reserve, "reserve a subnet for a node (a key without TTL)"},
	{"unreserve", cmd_unreserve, "turn a reservation back into an expiring lease"},
	{"status", cmd_status, "show the local weftd's state (lease, backend, peers, ready)"},
	{"docker-opts", cmd_docker_opts, "write Docker daemon options (mk-docker-opts.sh)"},
	{"help", cmd_help, "show this help, or a command's with 'help COMMAND'"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

bool weftctl_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help") || !strcmp(arg, "help");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: weftctl [--help] [--version] COMMAND [ARGS...]\n\n"
		   "Operator tool for weft, the flannel-compatible network daemon.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'weftctl COMMAND --help' for a command's usage.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *cmd;
	char help_arg[] = "--help";
	char *sub_argv[3];

	if (argc < 2 || weftctl_is_help(argv[1])) {
		usage(stdout);
		return 0;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr, "weftctl: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return -1;
	}
	sub_argv[0] = argv[1];
	sub_argv[1] = help_arg;
	sub_argv[2] = NULL;
	return cmd->run(2, sub_argv);
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	int r;

	/* A TLS peer that resets the connection must give an error, not kill
	 * us (OpenSSL writes with write()); a closed stdout is reported below. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("weftctl %s\n", weft_version);
		return 0;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr, "weftctl: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return 1;
	}
	r = cmd->run(argc - 1, argv + 1);
	/* a failed write (e.g. to a closed pipe or a full disk) is a failure too */
	if (fflush(stdout) != 0 && r == 0) {
		perror("weftctl: stdout");
		r = -1;
	}
	return r < 0 ? 1 : 0;
}
