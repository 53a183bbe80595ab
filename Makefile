# SPDX-License-Identifier: Apache-2.0
# weft: one GNU Makefile. `make` builds the binaries, `make test` runs every test layer.
#
# Knobs: SANITIZE=1 (ASan+UBSan, objects in build/asan), V=1 (show commands),
#        WERROR=1 (warnings are errors; CI sets it), FUZZ_SECONDS=N (per fuzz target),
#        JOBS=N (parallel builds of `make test`; default: the CPU count).

CC      ?= cc
FUZZ_CC ?= clang
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
CNIDIR  ?= /opt/cni/bin
MANDIR  ?= $(PREFIX)/share/man
FUZZ_SECONDS ?= 60
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)

PKGS      := libmnl jansson libnftables openssl yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	    -Wpointer-arith -Wcast-qual -Wformat=2
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

OPT_CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(OPT_CFLAGS) $(WARNINGS) -MMD -MP -D_GNU_SOURCE \
	-DWEFT_VERSION='"$(VERSION)"' -Isrc $(PKG_CFLAGS)
BASE_LDFLAGS := -Wl,--as-needed

# The CNI plugin is linked statically, as the reference plugins are: the
# DaemonSet copies it from the image onto hosts that need not have jansson,
# and a static binary starts about twice as fast (no ld.so relocation), which
# is most of its cost on a pod's set-up path. ASan needs dynamic linking.
ifeq ($(SANITIZE),1)
BUILD ?= build/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CNI_LDFLAGS :=
CNI_LIBS := $(PKG_LIBS)
else
BUILD ?= build
SAN_FLAGS :=
CNI_LDFLAGS := -static
CNI_LIBS := -ljansson -lm
endif

ALL_CFLAGS  := $(BASE_CFLAGS) $(SAN_FLAGS) $(CFLAGS)

# Only src/core/version.c uses WEFT_VERSION; it is rebuilt when the version
# changes (the stamp is rewritten only then).
VERSION_STAMP := $(BUILD)/.version
$(shell mkdir -p $(BUILD); [ "$$(cat $(VERSION_STAMP) 2>/dev/null)" = '$(VERSION)' ] || echo '$(VERSION)' > $(VERSION_STAMP))
$(BUILD)/src/core/version.o: $(VERSION_STAMP)
ALL_LDFLAGS := $(BASE_LDFLAGS) $(SAN_FLAGS) $(LDFLAGS)

ifneq ($(V),1)
Q := @
quiet = @printf '  %-7s %s\n' $(1) $(2);
else
Q :=
quiet =
endif

# Every .c under src/ is library code except the entry points named main.c.
LIB_SRCS  := $(filter-out %/main.c,$(wildcard src/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libweft.a

WEFTD_SRCS   := src/agent/main.c
WEFTCTL_SRCS := $(wildcard tools/weftctl/*.c)
CNI_SRCS     := $(wildcard cni/*.c)

BINS := $(BUILD)/weftd $(BUILD)/weftctl $(BUILD)/weft-cni

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

# C programs driven by the integration scripts (they need a real etcd etc.).
ITEST_SRCS := $(wildcard tests/integration/*.c)
ITEST_BINS := $(ITEST_SRCS:tests/integration/%.c=$(BUILD)/tests/integration/%)

# C programs the network-namespace scripts run (they need root).
NTEST_SRCS := $(wildcard tests/netns/*.c)
NTEST_BINS := $(NTEST_SRCS:tests/netns/%.c=$(BUILD)/tests/netns/%)

# Every tests/fuzz/fuzz_<name>.c is a target, linked with all of src/ (compiled
# once by clang into build/fuzz/obj, archived); those named fuzz_cni_* also get
# the CNI plugin's code (cni/, without its main.c).
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_CNI_BINS := $(filter build/fuzz/fuzz_cni_%,$(FUZZ_BINS))
FUZZ_CNI_SRCS := $(filter-out cni/main.c,$(CNI_SRCS))
FUZZ_FLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -DWEFT_VERSION='"fuzz"' -Isrc $(PKG_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ := build/fuzz/obj
FUZZ_LIB := build/fuzz/libweft-fuzz.a
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_OBJ)/%.o)
FUZZ_CNI_OBJS := $(FUZZ_CNI_SRCS:%.c=$(FUZZ_OBJ)/%.o)

.PHONY: all deps test unit fuzz fuzz-build fuzz-smoke clean install lint demo demo-down image
.DEFAULT_GOAL := all
# Keep test objects: they are intermediate to make, but rebuilding them is waste.
.SECONDARY:

all: $(BINS)

$(BUILD)/%.o: %.c
	$(call quiet,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(call quiet,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/weftd: $(WEFTD_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(call quiet,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/weftctl: $(WEFTCTL_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(call quiet,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/weft-cni: $(CNI_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(call quiet,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(CNI_LDFLAGS) -o $@ $^ $(CNI_LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB)
	$(call quiet,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

$(BUILD)/tests/integration/%: $(BUILD)/tests/integration/%.o $(LIB)
	$(call quiet,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

$(BUILD)/tests/netns/%: $(BUILD)/tests/netns/%.o $(LIB)
	$(call quiet,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

unit: $(UNIT_BINS) $(ITEST_BINS) $(NTEST_BINS)

# Fuzz targets are built by clang with their own objects, never mixed with gcc ones.
$(FUZZ_OBJ)/%.o: %.c
	$(call quiet,FUZZCC,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(call quiet,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_CNI_BINS): FUZZ_EXTRA_OBJS := $(FUZZ_CNI_OBJS)
$(FUZZ_CNI_BINS): $(FUZZ_CNI_OBJS)
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(call quiet,FUZZ,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_EXTRA_OBJS) $(FUZZ_LIB) $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

# `make fuzz` runs each target for FUZZ_SECONDS on a copy of its seed corpus.
fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

deps:
	$(Q)scripts/deps.sh all

# The README's one test command. Installs what is missing, builds normal and
# sanitizer trees, then runs every layer through one runner that ends with
# "N passed, N failed".
test: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) WERROR=1 all unit
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) WERROR=1 SANITIZE=1 all unit
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) fuzz-build
	$(Q)tests/run.sh

# The main job: a local 3-host cluster in network namespaces (root; installs
# what it needs). BACKEND=vxlan|host-gw|udp HOSTS=N PODS=N KEEP=1.
demo:
	$(Q)scripts/demo.sh

demo-down:
	$(Q)scripts/demo-down.sh

# Also under flannel's names, for deployments that use them: flanneld (a
# relative symlink to weftd), mk-docker-opts.sh (runs `weftctl docker-opts`)
# and the CNI plugin as flannel. BINDIR=/opt/bin gives flannel's image layout.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(CNIDIR)
	install -m 0755 $(BUILD)/weftd $(BUILD)/weftctl $(DESTDIR)$(BINDIR)/
	ln -sfn weftd $(DESTDIR)$(BINDIR)/flanneld
	install -m 0755 contrib/mk-docker-opts.sh $(DESTDIR)$(BINDIR)/mk-docker-opts.sh
	install -m 0755 $(BUILD)/weft-cni $(DESTDIR)$(CNIDIR)/weft
	install -m 0755 $(BUILD)/weft-cni $(DESTDIR)$(CNIDIR)/flannel
	install -d $(DESTDIR)$(MANDIR)/man8
	install -m 0644 docs/man/weftd.8 docs/man/weftctl.8 $(DESTDIR)$(MANDIR)/man8/

# The container image for contrib/kubernetes/ (root; Debian's podman and
# debootstrap: scripts/deps.sh image): weft:$(VERSION) and weft:latest in
# podman's storage, build/image/weft-image.tar (oci-archive), the size printed.
# The Debian base is cached in build/image/. IMAGE=, IMAGE_TAG=,
# IMAGE_EXTRA_PACKAGES=, DEBIAN_MIRROR=: see scripts/image.sh.
ifeq ($(SANITIZE),1)
image:
	$(error make image: the image takes the normal build, not SANITIZE=1)
else
image: all
	$(Q)IMAGE_TAG='$(or $(IMAGE_TAG),$(VERSION))' scripts/image.sh $(BUILD)
endif

lint:
	$(Q)! grep -nE '\b(sprintf|strcpy|strcat|strtok|atoi|gets)\(' $(LIB_SRCS) $(WEFTD_SRCS) \
		$(WEFTCTL_SRCS) $(CNI_SRCS) || (echo "lint: banned function used" >&2; false)

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
