# gardenfs: `make` builds the daemon, the in-container init and the default
# image; `make run` mounts /garden; `make test` runs every test.
CC ?= gcc
PKGS := fuse3 jansson libarchive libnl-route-3.0 libnftables
WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -I. -fno-strict-aliasing
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

B := build
LIB_SRCS := $(wildcard lib/*.c)
RT_SRCS := $(wildcard runtime/*.c)
NET_SRCS := $(wildcard net/*.c)
QUOTA_SRCS := $(wildcard quota/*.c)
GARDEN_SRCS := $(wildcard garden/*.c)
FRONT_SRCS := $(wildcard gardenfs/*.c)
# seccomp.c runs at build time (tools/mkseccomp), not in the init
INIT_SRCS := $(filter-out runtime/init/seccomp.c,$(wildcard runtime/init/*.c))
STREAM_SRCS := $(wildcard runtime/stream/*.c)
UNPACK_SRCS := $(wildcard runtime/unpack/*.c)
HDRS := $(wildcard lib/*.h runtime/*.h runtime/init/*.h runtime/stream/*.h runtime/unpack/*.h net/*.h quota/*.h garden/*.h gardenfs/*.h)

DAEMON_SRCS := $(LIB_SRCS) $(RT_SRCS) $(NET_SRCS) $(QUOTA_SRCS) $(GARDEN_SRCS) $(FRONT_SRCS)
DAEMON_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(DAEMON_SRCS))
INIT_OBJS := $(patsubst %.c,$(B)/init-obj/%.o,$(INIT_SRCS) lib/err.c lib/buf.c net/lo.c)
# gardenfs-stream, the child that runs one streamin/streamout in a container
STREAM_OBJS := $(patsubst %.c,$(B)/stream-obj/%.o,$(STREAM_SRCS) lib/err.c lib/buf.c runtime/stream_proto.c)
STREAM_PKGS := libarchive libseccomp libcap
# gardenfs-unpack, the child that unpacks one image tarball or OCI layer
UNPACK_OBJS := $(patsubst %.c,$(B)/unpack-obj/%.o,$(UNPACK_SRCS) lib/err.c lib/buf.c runtime/fsutil.c runtime/image_proto.c)
# the runtime without the FUSE front, for test drivers
RT_ONLY_OBJS := $(filter-out $(B)/obj/gardenfs/% $(B)/obj/garden/%,$(DAEMON_OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRCS))
UNIT_SAN_BINS := $(patsubst tests/unit/%.c,$(B)/unit-san/%,$(UNIT_SRCS))
# what the unit tests may link: no runtime, no kernel (garden/ over a
# fake backend, the front's tables; libfuse only for its types), the
# init's hardening, which needs libseccomp and libcap, and net/'s pure
# half (no libnl, no nft)
NET_PURE_SRCS := net/addr.c net/ports.c net/rule.c net/state.c net/nfttext.c net/resolv.c
UNIT_LIB_SRCS := $(LIB_SRCS) runtime/cgroup.c runtime/stream_proto.c \
	runtime/image_proto.c \
	garden/garden.c garden/meta.c garden/stream.c \
	gardenfs/tab.c gardenfs/kinds.c gardenfs/nodes.c gardenfs/fs.c \
	gardenfs/streams.c gardenfs/access.c \
	runtime/init/seccomp.c runtime/init/caps.c runtime/init/dir.c \
	$(NET_PURE_SRCS)
UNIT_LIBS := -lseccomp -lcap -lpthread
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

all: $(B)/gardenfs $(B)/gardenfs-init $(B)/gardenfs-stream $(B)/gardenfs-unpack $(B)/image/.done $(B)/ctr-helper $(B)/oci/index.json \
	$(B)/stream-driver $(B)/gardenfs-stream-nowarm $(B)/devices-v2 $(B)/net-driver

$(B)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(B)/init-obj/%.o: %.c $(HDRS) $(B)/gen/seccomp_filter.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(B)/gen -DGFS_INIT -c -o $@ $<

# The seccomp program, made by libseccomp at build time (see
# runtime/init/seccomp.c for why not at run time).
$(B)/mkseccomp: tools/mkseccomp.c runtime/init/seccomp.c lib/err.c lib/buf.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c,$^) -lseccomp

$(B)/gen/seccomp_filter.h: $(B)/mkseccomp
	@mkdir -p $(dir $@)
	$(B)/mkseccomp $@.tmp && mv $@.tmp $@

$(B)/gardenfs: $(DAEMON_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# Static, so that it starts fast and needs nothing from the image; so is
# libcap in it (Debian ships the .a file).  libseccomp ran at build time.
INIT_LIBS := -lcap
$(B)/gardenfs-init: $(INIT_OBJS)
	$(CC) $(CFLAGS) -static -o $@ $^ $(INIT_LIBS)

$(B)/stream-obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags $(STREAM_PKGS)) -c -o $@ $<

# Dynamic, every library bound at start (-z now) from the host, before it
# enters a container; after that its seccomp filter forbids loading code.
$(B)/gardenfs-stream: $(STREAM_OBJS)
	$(CC) $(CFLAGS) -Wl,-z,now -Wl,-z,relro -o $@ $^ $(shell pkg-config --libs $(STREAM_PKGS))

$(B)/unpack-obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags $(STREAM_PKGS)) -c -o $@ $<

# Dynamic and bound at start (-z now), like gardenfs-stream: its seccomp
# filter allows no new executable mapping.
$(B)/gardenfs-unpack: $(UNPACK_OBJS)
	$(CC) $(CFLAGS) -Wl,-z,now -Wl,-z,relro -o $@ $^ $(shell pkg-config --libs $(STREAM_PKGS))

# The same without the warm-up of locale and gconv tables, so that the
# tests can show the seccomp filter alone keeps container code out.
$(B)/gardenfs-stream-nowarm: $(STREAM_SRCS) lib/err.c lib/buf.c runtime/stream_proto.c $(HDRS)
	$(CC) $(CFLAGS) -DSX_TEST_NO_WARM -Wl,-z,now -Wl,-z,relro -o $@ $(filter %.c,$^) $(shell pkg-config --cflags --libs $(STREAM_PKGS))

# Drives rt_stream_* against a container's init (tests/integration/55-*).
$(B)/stream-driver: tests/stream-driver.c $(RT_ONLY_OBJS)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# Drives the net/ library with stand-in containers (tests/integration/50-*).
NET_DRIVER_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS) $(NET_SRCS))
$(B)/net-driver: tests/net-driver.c $(NET_DRIVER_OBJS)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# A tiny static helper for tests, copied into test images (crun's way).
$(B)/ctr-helper: tests/helper/ctr-helper.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static -o $@ $<

# The security tests' driver of the cgroup v2 device program.
$(B)/devices-v2: tests/security/devices-v2.c runtime/cgroup.c lib/err.c lib/buf.c lib/parse.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c,$^) -lpthread

$(B)/image/.done: tools/mkimage.sh
	tools/mkimage.sh $(B)/image
	@touch $@

# A small OCI layout of the busybox image (two layers and a whiteout), for
# the image tests; made here, with no network.
$(B)/oci/index.json: tools/mkoci.sh $(B)/image/.done
	tools/mkoci.sh $(B)/oci

$(B)/unit/%: tests/unit/%.c $(UNIT_LIB_SRCS) $(HDRS) $(B)/gen/seccomp_filter.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(B)/gen $(PKG_CFLAGS) -o $@ $< $(UNIT_LIB_SRCS) $(PKG_LIBS) $(UNIT_LIBS) -lcmocka

$(B)/unit-san/%: tests/unit/%.c $(UNIT_LIB_SRCS) $(HDRS) $(B)/gen/seccomp_filter.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(B)/gen -O1 $(SAN) $(PKG_CFLAGS) -o $@ $< $(UNIT_LIB_SRCS) $(PKG_LIBS) $(UNIT_LIBS) -lcmocka

# libFuzzer targets (tests/fuzz/fuzz_*.c) over the parsers of user input,
# with ASan and UBSan; `make fuzz` runs each FUZZ_SECONDS, `make fuzz-ci`
# (part of `test`) 30 s each.
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(WARN) -std=gnu11 -D_GNU_SOURCE -I. -fno-strict-aliasing

$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB_SRCS) $(PKG_LIBS)

fuzz: $(FUZZ_BINS)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

fuzz-ci: $(FUZZ_BINS)
	tests/fuzz/run.sh 30 $(FUZZ_BINS)

# The daemon built with ASan and UBSan (halting on the first report), and
# the whole integration suite run against it: slower, not part of `test`.
$(B)/gardenfs-asan: $(DAEMON_SRCS) $(HDRS)
	$(CC) $(CFLAGS) -O1 $(SAN) $(PKG_CFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS) -lpthread

$(B)/net-driver-asan: tests/net-driver.c $(LIB_SRCS) $(NET_SRCS) $(HDRS)
	$(CC) $(CFLAGS) -O1 $(SAN) $(PKG_CFLAGS) -o $@ $< $(LIB_SRCS) $(NET_SRCS) $(PKG_LIBS) -lpthread

integration-asan: all $(B)/gardenfs-asan $(B)/net-driver-asan
	GFS_BIN=$(CURDIR)/$(B)/gardenfs-asan ASAN_OPTIONS=detect_leaks=0 \
	NET_DRIVER=$(CURDIR)/$(B)/net-driver-asan \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 tests/run.sh

deps:
	tools/deps.sh

unit: $(UNIT_BINS) $(UNIT_SAN_BINS)
	tools/run-unit.sh $(UNIT_BINS) $(UNIT_SAN_BINS)

integration: all
	tests/run.sh

test: deps
	$(MAKE) format-check
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) fuzz-ci
	$(MAKE) integration

run: deps
	$(MAKE) all
	mkdir -p /garden
	$(B)/gardenfs -f --rootfs $(CURDIR)/$(B)/image /garden

bench: deps
	$(MAKE) all
	tests/bench/bench.sh
	tests/bench/bench-limits-store.sh
	tests/bench/bench-net.sh
	tests/bench/bench-stream.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)

.PHONY: all deps unit integration integration-asan test run bench format format-check clean fuzz fuzz-ci
