#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The docs drift check's engine (tests/docs/check_docs.sh runs it and turns its
verdicts into TAP). It prints one verdict per checked item:

    ok<TAB>DESCRIPTION
    not ok<TAB>DESCRIPTION<TAB>FILE:LINE: what is wrong<TAB>FILE:LINE: ...

What it reads as documentation (--docs, default): README.md, docs/*.md,
docs/man/*.8 and every file under contrib/. Markdown: prose, inline code spans
(also across a line break) and fenced code blocks. Man pages: after undoing
troff's escapes (\\-, \\fB..., \\c) and joining a font macro's arguments
(.BR a b -> ab); .nf/.EX blocks are code, bold lines (.B, .BR, .BI, .RB, .IB)
are read like code spans, the rest like prose. Everything else (contrib/):
code, comments included; in contrib's shell scripts only flags on a line that
names weftd/flanneld/weftctl count (the rest are their own commands'), and
the FLANNELD_/FLANNEL_/WEFT_ variables they expand count as read.

What is true is taken from the built binaries (--build, default
$WEFT_BUILD or build/) and from the source (--src, default src/ tools/ cni/):
  - weftd's flags: the "  -name" lines of `weftd --help`, plus help and h;
  - weftctl's commands: the Commands: list of `weftctl --help`; config's
    subcommands: the "weftctl config WORD" lines of `weftctl config --help`;
    each command's flags: what its `weftctl CMD --help` (and `weftctl config
    SUB --help`) lists first on an indented line or in [--x] brackets, plus
    help and h; the global ones: the brackets of `weftctl --help`'s usage;
  - environment variables read: FLANNELD_<FLAG> for every weftd flag but
    --version ('-' and '.' as '_', upper-cased), and every string literal
    given to getenv() or an env helper (getenv_fn, env_seconds,
    backend_engine_from_env, env_lookup, env_str, apply_distro_etcd), named
    by a #define *_ENV "NAME" so used, in a {"NAME", NEED_*} table, or a
    "FLANNELD_*" literal (weftctl's table). Known (exists, maybe written, not
    read): also any "FLANNEL_*"/"WEFT_*" literal (subnet.env's FLANNEL_SUBNET
    ..., which weftd writes and weftctl docker-opts and the CNI plugin read);
  - metrics: every string literal "weft_..."/"flannel_..." in src/**/*.c
    outside comments (status.c's table, metrics_*_new, metrics_family_add);
  - endpoints: the literals of the health_paths[] and metrics_paths[] route
    tables (status.c) and of any http_server_route(..., "/path", ...).

What it recognises in the docs:
  - flags: "--name" anywhere; "-name" (one dash) only where weftd/flanneld
    (several letters, or -v/-h) or weftctl (one letter) owns it, in Go's
    messages ("flag -ip-masq"), or in the first cell of a Markdown table
    ("| `-vmodule` |"). A flag's owner is the nearest program named before it
    in its code line (with backslash continuations), code span (also the
    program among the last three words before the span in prose: "iptables
    `--wait`", "dockerd's options (`--bip`"), or bold man line (carried over
    the next bold lines of the sentence): weftd or flanneld (-> weftd),
    weftctl [COMMAND], or an OTHER_PROGS program, an iptables rule "-A CHAIN"
    or DOCKER_OPTS/DOCKER_OPT_X (not checked); "weftd:" (a message) is no
    owner. With no such program: in a YAML list under a container's command
    (contrib/**.yml) the container's program; in weftd.8 weftd, in weftctl.8
    weftctl and the command of the .SS section; elsewhere nobody, and the
    flag must be one of weftd or of some weftctl command. Where no program is
    named on the line, OTHER_FLAGS (other programs' flags, each with its
    reason) and PLACEHOLDERS are let through. Owned by weftd: must be in
    `weftd --help`; by weftctl CMD: in CMD's help (docker-opts: also
    DOCKER_OPT_FLAGS, dockerd's options it writes); by weftctl: in some help.
  - environment variables: FLANNELD_*, FLANNEL_* and WEFT_* words and the
    exact names the code reads (a wildcard PREFIX_* or PREFIX_<...> must
    match some known name), the "- name: X" env entries of contrib/**.yml
    (unless the manifest uses $(X) itself); NOT_ENV names are skipped.
  - metrics: weft_* / flannel_* words (a trailing '_' or '_*': a prefix).
  - endpoints: the path of an http(s)://HOST:PORT/path URL (but other
    servers' ports: NON_ENDPOINT_PORTS), a YAML "path: /x" under httpGet:,
    and the words /NAMEz, /metrics, /status, /health, /ready, /live,
    /version, /debug (but after a name of OTHER_SERVER_RE on the line:
    "kubectl get --raw /livez", "etcd's /health"). Where the docs give --healthz-port=N or
    --metrics-port=N, a URL (or probe) on port N must name a path of that
    listener.
  - weftctl commands: "weftctl WORD" (WORD lower-case and not in
    PROSE_WORDS) in Markdown's code spans and blocks, anywhere in man pages
    and contrib/; in "weftctl config WORD" also WORD.

The reverse direction (not with --no-reverse): every weftd flag must be in
docs/man/weftd.8 and every flag of every weftctl command in
docs/man/weftctl.8 (as -name or --name); every weftctl command needs a .SS
section there; every metric, every route and every environment variable read
(but the FLANNELD_<FLAG> family, which the man pages give as a rule, the
tests' knobs WEFT_TEST_*/WEFT_*_TEST_*, TEST_KNOBS and the CNI protocol's
CNI_*) must be named somewhere in the docs.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys

# Programs whose flags are not weft's: a flag after one of these (nearest
# program before it in the same unit) is not checked.
OTHER_PROGS = {
    'docker', 'dockerd', 'containerd', 'podman', 'crictl', 'nerdctl', 'runc',
    'kubelet', 'kubectl', 'kubeadm', 'kube-controller-manager', 'kube-proxy',
    'kube-rbac-proxy', 'kube-apiserver', 'etcd', 'etcdctl', 'iptables',
    'ip6tables', 'iptables-save', 'iptables-restore', 'iptables-legacy',
    'iptables-nft', 'nft', 'ip', 'swanctl', 'firewall-cmd',
    'systemctl', 'journalctl', 'unshare', 'mount', 'debootstrap', 'chmod',
    'chown', 'ps', 'update-alternatives', 'curl', 'wget', 'git',
    'install', 'ln', 'cp', 'rm', 'ss', 'tcpdump', 'ethtool', 'sysctl',
    'modprobe', 'conntrack', 'grep', 'sed', 'awk', 'jq', 'wg', 'xargs',
    'ping', 'iperf3', 'nsenter', 'bash', 'tar', 'openssl', 'apt-get', 'dpkg',
    'setpriv', 'strace', 'gdb', 'valgrind', 'clang', 'gcc', 'mkdir', 'lsmod',
    'prometheus', 'promtool', 'helm', 'minikube',
}

# Flags of other programs named with no program before them (or with the
# program named after them), where context cannot tell: flag -> whose.
OTHER_FLAGS = {
    'cluster-cidr': "kube-controller-manager's, named after the flag",
    'pod-network-cidr': "kubeadm's, named after the flag",
    'random-fully': "iptables' MASQUERADE option",
    'experimental-watch-progress-notify-interval': "etcd's",
    'list-sas': "swanctl's, named in prose",
    'cgroup-parent': "podman's, named in prose (cni.md)",
    'ip-forward': "dockerd's, named in prose (docker.md)",
    'bip': "dockerd's, which weftctl docker-opts writes (DOCKER_OPT_BIP)",
    'mtu': "dockerd's, which weftctl docker-opts writes (DOCKER_OPT_MTU)",
    'uri': "swanctl's, named before the program",
    'upstream': "kube-rbac-proxy's, on the comment line after the program's",
    'healthz': "weftctl status's former option; weftctl.8 says it is refused",
}

# dockerd's options that weftctl docker-opts writes: not its own options where
# it is the owner (weftctl.8's docker-opts section).
DOCKER_OPT_FLAGS = {'bip', 'mtu', 'ip-masq'}

# Words that follow "weftctl" in prose and are no command.
PROSE_WORDS = {
    'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'can', 'does',
    'for', 'from', 'has', 'in', 'is', 'it', 'its', 'itself', 'not', 'of', 'on',
    'or', 'reads', 'so', 'that', 'the', 'then', 'to', 'uses', 'was', 'when',
    'which', 'will', 'with', 'writes', 'also', 'alike', 'only', 'too',
}

# Environment variables the code reads that operators are not meant to set:
# the tests' knobs. Not required to be documented (those documented are still
# checked to exist). name -> reason.
TEST_KNOB_RE = re.compile(r'^WEFT_(TEST_|[A-Z0-9]+_TEST_)')
TEST_KNOBS = {
    'PATH': 'the standard search path (extension commands, charon, iptables)',
}

# FLANNEL_* / WEFT_* words in the docs that are no environment variable.
NOT_ENV = {
    'WEFT_RTPROT': "a C constant (routing protocol 151), named in docs/style.md",
}

# Other servers' ports: etcd, the API server, the kubelet and kube-proxy,
# Prometheus and Alertmanager.
NON_ENDPOINT_PORTS = {'2379', '2380', '4001', '443', '6443', '10248', '10249', '10250',
                      '9090', '9093'}
# A bare /healthz-like word after one of these on its line is theirs.
OTHER_SERVER_RE = re.compile(r'\b(kubectl|kube-apiserver|apiserver|API server|kubelet|etcd|'
                             r'etcdctl|Prometheus|Alertmanager)\b')
ENDPOINT_WORD_RE = re.compile(
    r'(?<![\w./:<>$-])/([a-z]+z|metrics|status|health|ready|live|version|debug)(?![\w/.-])')


# ------------------------------------------------------------------ truth

def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=30)
    return p.returncode, p.stdout


def weftd_flags(build):
    rc, out = run([os.path.join(build, 'weftd'), '--help'])
    if rc != 0:
        sys.exit('check_docs: weftd --help exited %d' % rc)
    flags = set(re.findall(r'^  -([A-Za-z0-9_.-]+)', out, re.M))
    if not flags:
        sys.exit('check_docs: no flag in weftd --help')
    return flags | {'help', 'h'}


def help_flags(text):
    flags = set(re.findall(r'^\s+(--?[a-z][a-z0-9-]*)\b', text, re.M))
    flags |= set(re.findall(r'\[(--?[a-z][a-z0-9-]*)', text))
    return {f.lstrip('-') for f in flags} | {'help', 'h'}


def weftctl_truth(build):
    exe = os.path.join(build, 'weftctl')
    rc, out = run([exe, '--help'])
    if rc != 0:
        sys.exit('check_docs: weftctl --help exited %d' % rc)
    m = re.search(r'^Commands:\n((?:  \S.*\n)+)', out, re.M)
    if not m:
        sys.exit('check_docs: no Commands: list in weftctl --help')
    cmds = re.findall(r'^  (\S+)', m.group(1), re.M)
    flags = {'(global)': help_flags(out.split('\n')[0])}
    for c in cmds:
        if c == 'help':
            flags[c] = {'help', 'h'}
            continue
        rc, text = run([exe, c, '--help'])
        if rc != 0:
            sys.exit('check_docs: weftctl %s --help exited %d' % (c, rc))
        flags[c] = help_flags(text)
        if c == 'config':
            subs = set(re.findall(r'weftctl config (\w+)', text))
            for s in sorted(subs):
                rc, t2 = run([exe, 'config', s, '--help'])
                if rc == 0:
                    flags[c] |= help_flags(t2)
            flags['config:subs'] = subs
    return cmds, flags


def source_files(dirs, exts=('.c', '.h')):
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith(exts):
                    yield os.path.join(root, f)


def strip_comments(text):
    # Keeps string literals; drops /* */ and // comments (line count kept).
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append('\n' * text.count('\n', i, j))
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return ''.join(out)


ENV_CALL_RE = re.compile(
    r'\b(?:getenv|getenv_fn|env_seconds|backend_engine_from_env|env_lookup|env_str|'
    r'apply_distro_etcd)\s*\(')


def call_args(text, start):
    """The argument text of the call whose '(' ends at start, to its ')'."""
    depth, i = 1, start
    while i < len(text) and depth:
        c = text[i]
        if c == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == '\\' else 1
        elif c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
        i += 1
    return text[start:i - 1]


LIT_RE = re.compile(r'"([A-Z][A-Z0-9_]*)"')


def source_truth(srcdirs, weftd_fl):
    env_read, env_known, metrics, routes = {}, set(), {}, {}
    defines = {}
    texts = {}
    for path in source_files(srcdirs):
        with open(path, encoding='utf-8', errors='replace') as f:
            texts[path] = strip_comments(f.read())
        for name, val in re.findall(r'#define\s+(\w+_ENV)\s+"([A-Z][A-Z0-9_]*)"',
                                    texts[path]):
            defines[name] = val
            env_read.setdefault(val, path)
    for path, t in texts.items():
        for m in ENV_CALL_RE.finditer(t):
            args = call_args(t, m.end())
            for lit in LIT_RE.findall(args):
                env_read.setdefault(lit, path)
            for name, val in defines.items():
                if re.search(r'\b%s\b' % name, args):
                    env_read.setdefault(val, path)
        for lit in re.findall(r'\{\s*"([A-Z][A-Z0-9_]*)"\s*,\s*NEED_', t):
            env_read.setdefault(lit, path)
        for lit in re.findall(r'"((?:FLANNELD|FLANNEL|WEFT)_[A-Z0-9_]+)"', t):
            env_known.add(lit)
            if lit.startswith('FLANNELD_'):
                env_read.setdefault(lit, path)
        if path.endswith('.c') and '/src/' in '/' + path.replace(os.sep, '/'):
            for lit in re.findall(r'"((?:weft|flannel)_[a-z0-9_]+)"', t):
                metrics.setdefault(lit, path)
        for listener, body in re.findall(
                r'\b(health|metrics)_paths\s*\[\s*\d*\s*\]\s*=\s*\{([^}]*)\}', t):
            for p in re.findall(r'"(/[^"]*)"', body):
                routes[p] = listener
        for p in re.findall(r'http_server_route\s*\([^,]+,\s*"(/[^"]*)"', t):
            routes.setdefault(p, '?')
    derived = set()
    for fl in weftd_fl:
        if fl in ('version', 'help', 'h'):
            continue
        derived.add('FLANNELD_' + re.sub(r'[-.]', '_', fl).upper())
    env_known |= set(env_read) | derived
    return env_read, env_known, derived, metrics, routes


# ------------------------------------------------------------------ docs

class Unit:
    """One line of a doc, as the check sees it."""
    __slots__ = ('path', 'line', 'text', 'code', 'owner', 'spans', 'segs', 'reset')

    def __init__(self, path, line, text, code, owner=None):
        self.path, self.line, self.text, self.code = path, line, text, code
        self.owner = owner  # default owner when no program precedes a flag
        self.spans = None   # Markdown prose: its inline code spans
        self.segs = None    # ... as (start, end, is_code, continued) pieces
        self.reset = False  # man: a paragraph or item starts here


def md_units(path, lines):
    units, fence, carry = [], None, False
    for i, line in enumerate(lines, 1):
        m = re.match(r'^\s*(```|~~~)', line)
        if m:
            fence = None if fence == m.group(1) else (fence or m.group(1))
            continue
        u = Unit(path, i, line, fence is not None)
        if not u.code:
            # Code spans, also those that go on over a line break.
            if not line.strip():
                carry = False
            segs, pos, in_span = [], 0, carry
            for bm in re.finditer('`', line):
                segs.append((pos, bm.start(), in_span, pos == 0 and carry))
                pos, in_span = bm.end(), not in_span
            segs.append((pos, len(line), in_span, pos == 0 and carry))
            carry = in_span
            u.segs = [sg for sg in segs if sg[1] > sg[0]]
            u.spans = [line[a:b] for a, b, c, _ in u.segs if c]
        units.append(u)
    return units


def troff_text(line):
    line = re.sub(r'\\f(\[[^\]]*\]|\(..|.)', '', line)
    line = line.replace('\\-', '-').replace('\\c', '').replace('\\&', '')
    line = re.sub(r'\\\(em|\\\(en', '-', line)
    line = line.replace('\\e', '\\').replace('\\ ', ' ')
    m = re.match(r'^\.(B|I|SM|SB)\s+(.*)$', line)
    if m:
        return m.group(2).replace('"', '')
    m = re.match(r'^\.(BR|RB|BI|IB|RI|IR)\s+(.*)$', line)
    if m:
        try:
            return ''.join(shlex.split(m.group(2), posix=True))
        except ValueError:
            return m.group(2).replace('"', '')
    m = re.match(r'^\.(SS|SH|TP|TQ|IP)\s*(.*)$', line)
    if m:
        return m.group(2).replace('"', '')
    if line.startswith('.'):
        return ''
    return line


def man_units(path, lines):
    units, nofill = [], False
    prog = os.path.basename(path).split('.')[0]
    section, sub = None, None
    for i, raw in enumerate(lines, 1):
        if raw.startswith('.\\"'):
            continue
        if re.match(r'^\.(nf|EX)\b', raw):
            nofill = True
        elif re.match(r'^\.(fi|EE)\b', raw):
            nofill = False
        text = troff_text(raw)
        m = re.match(r'^\.SH\s+"?([^"]*)', raw)
        if m:
            section, sub = m.group(1).strip(), None
        m = re.match(r'^\.SS\s+(.*)', raw)
        if m:
            words = troff_text(raw).split()
            sub = words[0] if section == 'COMMANDS' and words else None
        owner = ('weftd',) if prog == 'weftd' else \
                ('weftctl', sub) if prog == 'weftctl' else None
        u = Unit(path, i, text, nofill, owner)
        if not nofill:
            # Programs count in bold (.B, .BR ...) only, as in code spans.
            bold = re.match(r'^\.(B|BR|BI|RB|IB)\s', raw) is not None
            u.segs = [(0, len(text), bold, bold)]
        u.reset = re.match(r'^\.(br|TP|TQ|PP|P|LP|IP|SS|SH|nf|fi|EX|EE)\b', raw) is not None
        units.append(u)
    return units


def code_units(path, lines):
    units, yaml = [], path.endswith(('.yml', '.yaml'))
    cmd_owner, want_cmd, want_sub = None, False, False
    for i, line in enumerate(lines, 1):
        owner = None
        if yaml:
            # A container's "command:" list names its program; the flags in
            # its list items (also commented-out ones) are that program's.
            s = re.sub(r'^#\s?', '', line.strip())
            if re.match(r'^\s{0,6}- name:', line):
                cmd_owner = None  # the next container
            if re.match(r'^command:\s*$', s):
                cmd_owner, want_cmd = None, True
            m = re.match(r'^- (\S+)$', s)
            if want_cmd and m:
                prog = os.path.basename(m.group(1))
                cmd_owner = ('weftd',) if prog in ('weftd', 'flanneld') else \
                    ('weftctl', None) if prog == 'weftctl' else ('other', prog)
                want_cmd, want_sub = False, prog == 'weftctl'
            elif want_sub and m and re.match(r'^[a-z][a-z-]*$', m.group(1)):
                cmd_owner, want_sub = ('weftctl', m.group(1)), False
            elif m and m.group(1).startswith('-') or re.match(r'^- name:\s*[A-Z]', s):
                owner = cmd_owner  # a flag, or an env: entry
        units.append(Unit(path, i, line, True, owner))
    return units


def doc_units(paths):
    units = []
    for path in paths:
        with open(path, encoding='utf-8', errors='replace') as f:
            lines = f.read().split('\n')
        if path.endswith('.md'):
            units += md_units(path, lines)
        elif re.search(r'\.[1-9]$', path):
            units += man_units(path, lines)
        else:
            units += code_units(path, lines)
    return units


# A program's name, alone or as an executable's path (.../bin/x, build/x, ./x,
# $dir/x); not a file named like it (/etc/default/weftd).
PROG_RE = re.compile(r'(?<![\w.$/-])(?:(?:[\w.$/{}-]*/)?(?:bin|sbin|build)/|\./|\$\{?\w+\}?/)?'
                     r'([a-z][a-z0-9.-]*[a-z0-9])(?![\w-])')
FLAG_RE = re.compile(r'(?<![\w-])(--?)([A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]|[a-z])(?![\w-])')
# In prose, a program named right before a code span owns the flags in it:
# "iptables `--wait`", "dockerd's options (`--bip`", "kube-rbac-proxy (`...".
HINT_RE = re.compile(r'([^.;:`)]*?)[(:]?\s*$')


def hint_owner(prefix, ctl_cmds):
    """The program among the last three words before a code span, if any."""
    tail = HINT_RE.search(prefix).group(1)
    for w in reversed(re.findall(r"(?<![\w.$/-])([a-z][a-z0-9.-]*[a-z0-9])(?:'s)?(?![\w-])",
                                 tail)[-3:]):
        o = prog_owner(w, ' ', ctl_cmds)
        if o is not None:
            return o
    return None


# Where another program's name is a command: at the start of a line, code
# span or comment, after a shell operator, '(', '=' (ExecStart=), a prompt,
# sudo, exec, xargs, env, timeout, "--" (kubectl exec ... --).
CMD_POS_RE = re.compile(r'(?:^|[|;&(=`$]|^\s*#|\b(?:sudo|exec|xargs|env|timeout|--))\s*$')

# Not a program's name, but its arguments: an iptables rule (-A CHAIN ...), the
# options given to dockerd (DOCKER_OPTS="...", DOCKER_OPT_MTU=...).
OTHER_CMD_RE = re.compile(r'(?<![\w-])(-[AIDN]\s+[A-Z][A-Z0-9_-]*)|\bDOCKER_OPT(?:S|_[A-Z]+)\b')

# Placeholders, not flags: "--name=value", "-flag".
PLACEHOLDERS = {'name', 'flag', 'option', 'foo'}


def prog_owner(p, text_after, ctl_cmds):
    if text_after.startswith(':'):
        return None  # "weftd: flag provided but not defined": a message
    if p in ('weftd', 'flanneld'):
        return ('weftd',)
    if p == 'weftctl':
        sm = re.match(r'\s+([a-z][a-z-]*)\b', text_after)
        return ('weftctl', sm.group(1) if sm and sm.group(1) in ctl_cmds else None)
    if p in OTHER_PROGS:
        return ('other', p)
    return None


def flag_mentions(units, ctl_cmds):
    """Yields (unit, flag, owner, dashes, explicit): owner ('weftd',),
    ('weftctl', CMD|None), ('other', PROG) or None (weft's, unattributed);
    explicit: a program named on the line (or its command) owns it."""
    cont_owner = None
    for u in units:
        text = u.text
        if u.path.endswith('.8') and (u.reset or not u.text):
            cont_owner = None
        segs = u.segs if u.segs is not None else [(0, len(text), True, True)]
        owner = None
        for a, b, is_code, continued in segs:
            if not is_code:
                owner = None
            elif continued:
                owner = cont_owner
            else:
                owner = hint_owner(text[:a].rstrip('`'), ctl_cmds)
            seg = text[a:b]
            events = [(m.start(), 1, m) for m in FLAG_RE.finditer(seg)]
            if is_code:
                events += [(m.start(), 0, m) for m in PROG_RE.finditer(seg)]
                events += [(m.start(), 0, m) for m in OTHER_CMD_RE.finditer(seg)]
            for _, kind, m in sorted(events, key=lambda e: (e[0], e[1])):
                if kind == 0 and m.re is OTHER_CMD_RE:
                    owner = ('other', 'iptables' if m.group(1) else 'dockerd')
                    continue
                if kind == 0:
                    if m.group(1) in OTHER_PROGS and not CMD_POS_RE.search(seg[:m.start()]):
                        continue  # "install it", "the ip of": a word, not a command
                    if seg[:m.start()].count('"') % 2:
                        continue  # inside a quoted string: --comment "flanneld masq"

                    po = prog_owner(m.group(1), seg[m.end():], ctl_cmds)
                    if po is not None:
                        owner = po
                    continue
                dashes, name = m.group(1), m.group(2)
                if name in PLACEHOLDERS:
                    continue
                if dashes == '-' and len(name) > 1 and re.search(r'\bflag $', seg[:m.start()]):
                    # Go's flag package's messages: "... for flag -ip-masq ...".
                    yield u, name, ('weftd',), dashes, True
                    continue
                if dashes == '-' and m.start() == 0 and is_code and u.spans is not None \
                        and re.match(r'^\|\s*$', text[:a].rstrip('`')):
                    # The first cell of a Markdown table of flags: "| `-vmodule` |".
                    yield u, name, None, dashes, False
                    continue
                if dashes == '-':
                    # One dash: weftd's Go-style -name and weftctl's short
                    # options, only where the line names weftd or weftctl.
                    if owner is None or owner[0] == 'other':
                        continue
                    if owner[0] == 'weftd' and len(name) == 1 and name not in ('v', 'h'):
                        continue
                    if owner[0] == 'weftctl' and len(name) > 1:
                        continue
                if owner is not None:
                    yield u, name, owner, dashes, True
                else:
                    yield u, name, u.owner, dashes, False
        if u.path.endswith('.8'):
            cont_owner = None if text.rstrip().endswith('.') else owner
        elif u.code:
            cont_owner = owner if text.rstrip().endswith('\\') else None
        else:
            cont_owner = owner if segs and segs[-1][2] else None


def words(units, regex, code_only=False):
    """Matches of regex in every unit; with code_only, only in Markdown's code
    spans and blocks (man pages and contrib/ are read whole)."""
    for u in units:
        texts = u.spans if code_only and u.spans is not None else [u.text]
        for t in texts:
            for m in regex.finditer(t):
                yield u, m


# ------------------------------------------------------------------ checks

class Report:
    def __init__(self):
        self.items = []

    def add(self, desc, problems):
        self.items.append((desc, problems))

    def emit(self):
        for desc, problems in self.items:
            if problems:
                print('not ok\t%s\t%s' % (desc, '\t'.join(problems)))
            else:
                print('ok\t%s' % desc)


def loc(u):
    return '%s:%d' % (u.path, u.line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--root', default='.')
    ap.add_argument('--build', default=os.environ.get('WEFT_BUILD', 'build'))
    ap.add_argument('--docs', nargs='*', help='docs to read (default: all)')
    ap.add_argument('--man', nargs='*', help='the man pages the reverse check reads')
    ap.add_argument('--src', nargs='*', default=['src', 'tools', 'cni'])
    ap.add_argument('--no-reverse', action='store_true',
                    help='only check what the docs name')
    a = ap.parse_args()
    os.chdir(a.root)

    if a.docs is None:
        docs = ['README.md'] + sorted(
            os.path.join('docs', f) for f in os.listdir('docs') if f.endswith('.md'))
        docs += sorted(os.path.join('docs/man', f) for f in os.listdir('docs/man')
                       if re.search(r'\.[1-9]$', f))
        for root, _, files in os.walk('contrib'):
            docs += sorted(os.path.join(root, f) for f in files)
    else:
        docs = a.docs
    man = a.man if a.man is not None else ['docs/man/weftd.8', 'docs/man/weftctl.8']

    wd_flags = weftd_flags(a.build)
    ctl_cmds, ctl_flags = weftctl_truth(a.build)
    ctl_all = set().union(*(v for k, v in ctl_flags.items() if ':' not in k))
    ctl_cmds_g = ['(global)'] + ctl_cmds
    env_read, env_known, env_derived, metrics, routes = source_truth(a.src, wd_flags)
    # contrib's scripts are programs too: the variables they read exist.
    for path in docs:
        if path.startswith('contrib') and path.endswith('.sh'):
            with open(path, encoding='utf-8', errors='replace') as f:
                env_known |= set(re.findall(r'\$\{?((?:FLANNELD|FLANNEL|WEFT)_[A-Z0-9_]+)', f.read()))
    units = doc_units(docs)
    rep = Report()

    # --- flags
    flag_items = {}  # (prog, name) -> [problems], [mentions]

    def fitem(prog, name):
        return flag_items.setdefault((prog, name), ([], []))

    allow_used = set()
    for u, name, owner, dashes, explicit in flag_mentions(units, ctl_cmds):
        shown = dashes + name
        if not explicit and name in OTHER_FLAGS and name not in wd_flags | ctl_all:
            allow_used.add(name)
            continue
        if owner is None and u.path.endswith('.sh'):
            continue  # a script's own commands (etcdctl, ip ...): only weftd/weftctl lines count
        if owner is None:
            if name in wd_flags:
                fitem('weftd', name)[1].append(loc(u))
            elif name in ctl_all:
                fitem('weftctl', name)[1].append(loc(u))
            elif name not in OTHER_FLAGS:
                fitem('weft', name)[0].append(
                    '%s: %s is no flag of weftd or of any weftctl command' % (loc(u), shown))
        elif owner[0] == 'weftd':
            probs, seen = fitem('weftd', name)
            seen.append(loc(u))
            if name not in wd_flags:
                probs.append('%s: %s is not in weftd --help' % (loc(u), shown))
        elif owner[0] == 'weftctl':
            if owner[1] == 'docker-opts' and name in DOCKER_OPT_FLAGS:
                continue
            probs, seen = fitem('weftctl', name)
            seen.append(loc(u))
            cmd = owner[1]
            if cmd is not None and cmd in ctl_flags:
                if name not in ctl_flags[cmd]:
                    probs.append("%s: %s is not in 'weftctl %s --help'" % (loc(u), shown, cmd))
            elif name not in ctl_all:
                probs.append('%s: %s is no option of any weftctl command' % (loc(u), shown))

    man_text, man_raw = {}, {}
    for path in man:
        with open(path, encoding='utf-8', errors='replace') as f:
            raw = f.read()
        man_raw[os.path.basename(path)] = raw
        man_text[os.path.basename(path)] = '\n'.join(
            troff_text(line) for line in raw.split('\n'))

    def in_man(page, name):
        t = man_text.get(page, '')
        pat = r'(?<![\w-])-%s%s(?![\w-])' % ('-?' if len(name) > 1 else '', re.escape(name))
        return re.search(pat, t) is not None

    if not a.no_reverse:
        for name in sorted(wd_flags - {'h'}):
            probs, _ = fitem('weftd', name)
            if not in_man('weftd.8', name):
                probs.append('in weftd --help but not in docs/man/weftd.8')
        for cmd in ctl_cmds_g:
            for name in sorted(ctl_flags.get(cmd, ())):
                if name == 'h':
                    continue
                probs, _ = fitem('weftctl', name)
                if not in_man('weftctl.8', name):
                    probs.append("in 'weftctl %s--help' but not in docs/man/weftctl.8"
                                 % ('' if cmd == '(global)' else cmd + ' '))

    if a.docs is None:
        stale = sorted(set(OTHER_FLAGS) - allow_used)
        rep.add('allowlist OTHER_FLAGS: every entry is still needed (%d)' % len(OTHER_FLAGS),
                ['%s is named nowhere without its program: drop it from OTHER_FLAGS' % n
                 for n in stale])
    for (prog, name), (probs, seen) in sorted(flag_items.items()):
        dash = '-' if len(name) == 1 else '--'
        desc = 'flag %s %s%s' % (prog, dash, name)
        if seen:
            desc += ' (named %d times)' % len(seen)
        rep.add(desc, sorted(set(probs), key=probs.index))

    # --- environment variables
    env_items = {}
    env_re = re.compile(r'(?<![\w-])((?:FLANNELD|FLANNEL|WEFT)_[A-Z0-9_]*|%s)(\*|<[^>]*>)?'
                        r'(?![\w-])'
                        % '|'.join(sorted(n for n in env_read if n not in TEST_KNOBS)))
    for u, m in words(units, env_re):
        name, wild = m.group(1), m.group(2)
        if name in NOT_ENV:
            continue
        if wild or name.endswith('_'):
            key = name.rstrip('_') + '_*'
            probs, seen = env_items.setdefault(key, ([], []))
            seen.append(loc(u))
            if not any(k.startswith(name if name.endswith('_') else name + '_')
                       for k in env_known):
                probs.append('%s: no variable read matches %s%s' % (loc(u), name, wild or ''))
            continue
        probs, seen = env_items.setdefault(name, ([], []))
        seen.append(loc(u))
        if name not in env_known:
            probs.append('%s: %s is read nowhere in %s' % (loc(u), name, ', '.join(a.src)))
    # The env: entries of weftd's and weftctl's containers in the manifests.
    for u in units:
        if not u.path.endswith(('.yml', '.yaml')):
            continue
        m = re.match(r'^\s*#?\s*- name:\s*([A-Z][A-Z0-9_]*)\s*$', u.text)
        if not m or m.group(1) in env_items or not u.owner or u.owner[0] == 'other':
            continue
        name = m.group(1)
        with open(u.path, encoding='utf-8') as f:
            if '$(%s)' % name in f.read():
                continue
        probs, seen = env_items.setdefault(name, ([], []))
        seen.append(loc(u))
        if name not in env_known:
            probs.append('%s: the manifest sets %s, which weft reads nowhere' % (loc(u), name))
    if not a.no_reverse:
        doc_all = '\n'.join(u.text for u in units)
        for name, path in sorted(env_read.items()):
            if name in env_derived or name in TEST_KNOBS or TEST_KNOB_RE.match(name):
                continue
            if name.startswith('CNI_'):
                continue  # the CNI protocol's variables: the runtime sets them
            probs, seen = env_items.setdefault(name, ([], []))
            if not re.search(r'(?<![\w])%s(?![\w])' % re.escape(name), doc_all):
                probs.append('%s reads it, no doc names it' % path)
    for name, (probs, seen) in sorted(env_items.items()):
        desc = 'env %s' % name + (' (named %d times)' % len(seen) if seen else '')
        rep.add(desc, sorted(set(probs), key=probs.index))

    # --- metrics
    met_items = {}
    met_re = re.compile(r'(?<![\w-])((?:weft|flannel)_[a-z0-9_]*)(\*)?(?![\w-])')
    for u, m in words(units, met_re):
        name, wild = m.group(1), m.group(2)
        if wild or name.endswith('_'):
            key = name.rstrip('_') + '_*'
            probs, seen = met_items.setdefault(key, ([], []))
            seen.append(loc(u))
            if not any(k.startswith(name.rstrip('_') + '_') for k in metrics):
                probs.append('%s: no metric matches %s%s' % (loc(u), name, wild or ''))
            continue
        probs, seen = met_items.setdefault(name, ([], []))
        seen.append(loc(u))
        if name not in metrics:
            probs.append('%s: %s is emitted nowhere in src/' % (loc(u), name))
    if not a.no_reverse:
        for name, path in sorted(metrics.items()):
            probs, seen = met_items.setdefault(name, ([], []))
            if not seen:
                probs.append('%s emits it, no doc names it' % path)
    for name, (probs, seen) in sorted(met_items.items()):
        desc = 'metric %s' % name + (' (named %d times)' % len(seen) if seen else '')
        rep.add(desc, sorted(set(probs), key=probs.index))

    # --- endpoints
    ports = {'health': set(), 'metrics': set()}
    for u, m in words(units, re.compile(r'(healthz|metrics)-port[= ]+(\d+)')):
        ports['health' if m.group(1) == 'healthz' else 'metrics'].add(m.group(2))
    ep_items = {}

    def ep(u, path, port=None):
        path = path.rstrip('/') or '/'
        if path == '/':
            return
        probs, seen = ep_items.setdefault(path, ([], []))
        seen.append(loc(u))
        if path not in routes:
            probs.append('%s: weftd serves no %s' % (loc(u), path))
            return
        for listener, ps in ports.items():
            if port in ps and routes[path] != listener:
                probs.append('%s: %s is served on the %s listener, not on port %s (--%s-port)'
                             % (loc(u), path, routes[path], port,
                                'healthz' if listener == 'health' else 'metrics'))
    url_re = re.compile(r'https?://[^\s/`"\')]+:(\d+)(/[\w./-]*)?')
    for u, m in words(units, url_re):
        if m.group(1) not in NON_ENDPOINT_PORTS and m.group(2):
            ep(u, m.group(2), m.group(1))
    for i, u in enumerate(units):
        m = re.match(r'^\s*path:\s*(/\S*)\s*$', u.text)
        if m and i >= 1 and any('httpGet:' in units[j].text for j in range(max(0, i - 3), i)):
            port = None
            for j in range(i + 1, min(len(units), i + 3)):
                pm = re.match(r'^\s*port:\s*(\d+)', units[j].text)
                if pm:
                    port = pm.group(1)
            ep(u, m.group(1), port)
    for u, m in words(units, ENDPOINT_WORD_RE):
        if not OTHER_SERVER_RE.search(u.text[:m.start()]):
            ep(u, m.group(0))
    if not a.no_reverse:
        for path in sorted(routes):
            probs, seen = ep_items.setdefault(path, ([], []))
            if not seen:
                probs.append('weftd serves it (src/agent/status.c), no doc names it')
    for path, (probs, seen) in sorted(ep_items.items()):
        desc = 'endpoint %s' % path + (' (named %d times)' % len(seen) if seen else '')
        rep.add(desc, sorted(set(probs), key=probs.index))

    # --- weftctl commands
    cmd_items = {}
    cmd_re = re.compile(r'(?<![\w/-])weftctl(?:\s+)([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?(?![\w-])')
    for u, m in words(units, cmd_re, code_only=True):
        cmd = m.group(1)
        if cmd in PROSE_WORDS:
            continue
        probs, seen = cmd_items.setdefault(cmd, ([], []))
        seen.append(loc(u))
        if cmd not in ctl_cmds:
            probs.append("%s: 'weftctl %s' is not in weftctl --help" % (loc(u), cmd))
        elif cmd == 'config' and m.group(2) and m.group(2) not in ctl_flags.get('config:subs', ()):
            probs.append("%s: 'weftctl config %s' is not in 'weftctl config --help'"
                         % (loc(u), m.group(2)))
    if not a.no_reverse:
        for cmd in ctl_cmds:
            probs, _ = cmd_items.setdefault(cmd, ([], []))
            if not re.search(r'^\.SS %s(?![\w-])' % re.escape(cmd.replace('-', '\\-')),
                             man_raw.get('weftctl.8', ''), re.M):
                probs.append('no .SS %s section in docs/man/weftctl.8' % cmd)
    for cmd, (probs, seen) in sorted(cmd_items.items()):
        desc = 'weftctl command %s' % cmd + (' (named %d times)' % len(seen) if seen else '')
        rep.add(desc, sorted(set(probs), key=probs.index))

    rep.emit()


if __name__ == '__main__':
    main()
