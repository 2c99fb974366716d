# bakefs.mk: a bakefs image at `/` for rumprun unikernels, in an application's GNU Makefile.
#
#   BAKEFS_IMAGE_SOURCES := rootfs
#   BAKEFS_MKIMAGE_FLAGS := --config app.json --tmpfs /tmp,/var/run
#   include /path/to/bakefs/platform/rump/bakefs.mk
#
#   app: app.c
#   	$(RUMPRUN_CC) -O2 -o $@ $<
#   app.bin: app $(BAKEFS_BAKE_DEPS)
#   	$(RUMPRUN_BAKE) $(BAKEFS_BAKE_ARGS) $(RUMPRUN_BAKE_CONFIG) $@ app
#
# The image object (`mkimage ... --emit-object`) and librumpfs_bakefs.a are linked by
# rumprun-bake (`-m "add ..."`), not by the application's compiler: rumprun's cc makes a
# relocatable "fermented" object and its stub link rejects kernel components; only the bake
# step links the rump kernel. docs/RUMPRUN.md has the whole recipe.
#
# Variables (set before the include, on the command line or in the environment):
#   RUMPRUN_TOOLCHAIN  rumprun's install directory (RRDEST: bin/rumprun-bake, bin/TUPLE-gcc);
#                      empty: the tools are taken from PATH
#   RUMPRUN_TUPLE      x86_64-rumprun-netbsd
#   RUMPRUN_CC, RUMPRUN_BAKE   the compiler and rumprun-bake (from the two above)
#   RUMPRUN_BAKE_CONFIG        the rumprun-bake configuration: hw_virtio
#   RUMPRUN_BAKE_EXTRA         more rumprun-bake arguments, e.g. -m "add -L/dir/of/libs"
#   RUMPMAKE           rumpmake of the rumprun build (RROBJ/rumptools/rumpmake); only needed to
#                      build the component. Not the rumpmake of a user-space (buildrump.sh)
#                      rump kernel: that one builds components registered by constructors.
#   BAKEFS_SRC         the bakefs source tree (default: the tree holding this file)
#   BAKEFS_ZSTD_SRC    a zstd 1.5 source tree (default: fetched into BAKEFS_BUILD/zstd-src by
#                      platform/rump/zstd/get-zstd-source.sh, which needs apt)
#   BAKEFS_BUILD       where the image, its object and the component go: bakefs-build
#   BAKEFS_COMPONENT_DIR  the directory of librumpfs_bakefs.a (default BAKEFS_BUILD/component;
#                      point it at a prebuilt one and RUMPMAKE is not needed)
#   BAKEFS_MKIMAGE     the mkimage program: mkimage (from PATH); a path, or a name on PATH
#   BAKEFS_IMAGE_SOURCES  the image's sources, in layer order (directories or tar archives)
#   BAKEFS_MKIMAGE_FLAGS  more mkimage options (--config, --tmpfs, --stub-etc, --spec ...)
#   BAKEFS_IMAGE_DEPS  more files the image depends on (config files, spec files)
#   BAKEFS_BASE_ETC    rumprun's base /etc, merged into the image's /etc by mkimage
#                      (--base-etc: the image's own files win), and then rumprun's library
#                      that would write it at boot (-lrumprunfs_base) is always left out of
#                      the bake. Default: auto, the directory rumprun's toolchain installs
#                      (RUMPRUN_TOOLCHAIN/share/rumprun/rumprunfs_base/etc; without
#                      RUMPRUN_TOOLCHAIN, found beside rumprun-bake's bin/). A directory:
#                      that one. none: nothing merged, and the bake keeps or leaves out
#                      rumprun's library by BAKEFS_IMAGE_HAS_ETC, as before.
#   BAKEFS_IMAGE_HAS_ETC  only with BAKEFS_BASE_ETC=none. yes: the image brings /etc, so
#                      librumprunfs_base is left out of the bake (it would halt at boot,
#                      "platefs: open", trying to create its files in the read-only image);
#                      no: keep rumprun's /etc (the component covers the image's missing
#                      /etc with a rumpfs that rumprun fills). Default: yes with --stub-etc or
#                      when a source directory has etc/, else no (a tar archive with etc/
#                      needs yes by hand).
#
# Results: BAKEFS_IMAGE, BAKEFS_IMAGE_OBJECT, BAKEFS_COMPONENT (files and rules),
# BAKEFS_BASE_ETC_DIR (the base /etc merged in; empty with BAKEFS_BASE_ETC=none),
# BAKEFS_BAKE_ARGS and BAKEFS_BAKE_DEPS (for the bake rule), targets bakefs-image,
# bakefs-component and bakefs-clean. Paths must not contain spaces.

BAKEFS_MK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BAKEFS_MK_GOAL := $(.DEFAULT_GOAL)

BAKEFS_SRC ?= $(abspath $(BAKEFS_MK_DIR)/../..)
BAKEFS_BUILD ?= bakefs-build
BAKEFS_MKIMAGE ?= mkimage
BAKEFS_IMAGE_SOURCES ?=
BAKEFS_MKIMAGE_FLAGS ?=
BAKEFS_IMAGE_DEPS ?=
BAKEFS_IMAGE ?= $(BAKEFS_BUILD)/image.bakefs
BAKEFS_IMAGE_OBJECT ?= $(BAKEFS_BUILD)/image.o
BAKEFS_COMPONENT_DIR ?= $(BAKEFS_BUILD)/component
BAKEFS_COMPONENT := $(BAKEFS_COMPONENT_DIR)/librumpfs_bakefs.a
BAKEFS_ZSTD_SRC ?= $(BAKEFS_BUILD)/zstd-src

RUMPRUN_TOOLCHAIN ?=
RUMPRUN_TUPLE ?= x86_64-rumprun-netbsd
RUMPRUN_BIN := $(if $(RUMPRUN_TOOLCHAIN),$(RUMPRUN_TOOLCHAIN)/bin/)
RUMPRUN_CC ?= $(RUMPRUN_BIN)$(RUMPRUN_TUPLE)-gcc
RUMPRUN_BAKE ?= $(RUMPRUN_BIN)rumprun-bake
RUMPRUN_BAKE_CONFIG ?= hw_virtio
RUMPRUN_BAKE_EXTRA ?=
RUMPMAKE ?=

# rumprun's base /etc, as its toolchain installs it (lib/librumprunfs_base's install target).
BAKEFS_BASE_ETC ?= auto
ifeq ($(BAKEFS_BASE_ETC),auto)
ifneq ($(strip $(RUMPRUN_TOOLCHAIN)),)
BAKEFS_BASE_ETC_DIR := $(RUMPRUN_TOOLCHAIN)/share/rumprun/rumprunfs_base/etc
else
BAKEFS_RUMPRUN_BAKE_PATH := $(shell command -v $(RUMPRUN_BAKE) 2>/dev/null)
BAKEFS_BASE_ETC_DIR := $(if $(BAKEFS_RUMPRUN_BAKE_PATH),$(abspath $(dir $(BAKEFS_RUMPRUN_BAKE_PATH))..),RUMPRUN_TOOLCHAIN)/share/rumprun/rumprunfs_base/etc
endif
else ifneq ($(BAKEFS_BASE_ETC),none)
BAKEFS_BASE_ETC_DIR := $(BAKEFS_BASE_ETC)
else
BAKEFS_BASE_ETC_DIR :=
endif

# Whether rumprun's library that writes its base /etc at boot is left out of the bake: always
# when that /etc is merged into the image, else when the image brings an /etc of its own.
ifneq ($(BAKEFS_BASE_ETC_DIR),)
BAKEFS_MKIMAGE_BASE_ETC := --base-etc $(BAKEFS_BASE_ETC_DIR)
BAKEFS_BAKE_REMOVE_BASE := yes
else
ifeq ($(origin BAKEFS_IMAGE_HAS_ETC),undefined)
BAKEFS_IMAGE_HAS_ETC := $(if $(filter --stub-etc,$(BAKEFS_MKIMAGE_FLAGS))$(wildcard $(addsuffix /etc,$(BAKEFS_IMAGE_SOURCES))),yes,no)
endif
BAKEFS_BAKE_REMOVE_BASE := $(BAKEFS_IMAGE_HAS_ETC)
endif

# rumprun-bake: the component and the image object join the configuration's libraries
# (linked --whole-archive: the rump kernel finds the component through link sets).
BAKEFS_BAKE_ARGS := -m "add -L$(abspath $(BAKEFS_COMPONENT_DIR)) -lrumpfs_bakefs $(abspath $(BAKEFS_IMAGE_OBJECT))"
ifeq ($(BAKEFS_BAKE_REMOVE_BASE),yes)
BAKEFS_BAKE_ARGS += -m "remove -lrumprunfs_base"
endif
BAKEFS_BAKE_ARGS += $(RUMPRUN_BAKE_EXTRA)
BAKEFS_BAKE_DEPS := $(BAKEFS_COMPONENT) $(BAKEFS_IMAGE_OBJECT)

# The image: rebuilt when a file of a source directory (or a tar source) changes.
BAKEFS_IMAGE_INPUTS := $(shell find $(BAKEFS_IMAGE_SOURCES) $(BAKEFS_BASE_ETC_DIR) 2>/dev/null) \
  $(BAKEFS_IMAGE_DEPS)

$(BAKEFS_IMAGE_OBJECT): $(BAKEFS_IMAGE_INPUTS) $(wildcard $(BAKEFS_MKIMAGE))
	@test -n "$(strip $(BAKEFS_IMAGE_SOURCES))" || { echo "bakefs.mk: set BAKEFS_IMAGE_SOURCES" >&2; exit 2; }
	@command -v $(BAKEFS_MKIMAGE) >/dev/null 2>&1 || { echo "bakefs.mk: no mkimage program" \
	  "'$(BAKEFS_MKIMAGE)': put bakefs's bin/ on PATH or set BAKEFS_MKIMAGE=/path/to/mkimage" \
	  "(examples/rumprun: BAKEFS_CMAKE_BUILD=/path/to/cmake/build)" >&2; exit 2; }
ifneq ($(BAKEFS_BASE_ETC_DIR),)
	@test -d $(BAKEFS_BASE_ETC_DIR) || { echo "bakefs.mk: no rumprun base /etc at" \
	  "'$(BAKEFS_BASE_ETC_DIR)' (rumprun's toolchain installs it in" \
	  "RUMPRUN_TOOLCHAIN/share/rumprun/rumprunfs_base/etc): set RUMPRUN_TOOLCHAIN," \
	  "BAKEFS_BASE_ETC=DIR, or BAKEFS_BASE_ETC=none to merge nothing" >&2; exit 2; }
endif
	@mkdir -p $(dir $@) $(dir $(BAKEFS_IMAGE))
	$(BAKEFS_MKIMAGE) $(BAKEFS_IMAGE_SOURCES) $(BAKEFS_MKIMAGE_FLAGS) $(BAKEFS_MKIMAGE_BASE_ETC) \
	  -o $(BAKEFS_IMAGE) --emit-object $@

$(BAKEFS_IMAGE): $(BAKEFS_IMAGE_OBJECT)

# The component, compiled by rumprun's rumpmake with the rump kernel's flags (-mno-red-zone,
# link-set registration, the rumpns_ renaming). GNU make's MAKEFLAGS must not reach the BSD
# make. Its own dependency tracking (depend) decides what to recompile.
BAKEFS_COMPONENT_INPUTS := $(wildcard $(BAKEFS_SRC)/platform/rump/*.[ch] $(BAKEFS_SRC)/platform/rump/Makefile \
  $(BAKEFS_SRC)/platform/rump/zstd/*.mk $(BAKEFS_SRC)/driver/*.cpp $(BAKEFS_SRC)/driver/*.h \
  $(BAKEFS_SRC)/include/bakefs/*.h)
BAKEFS_RUMPMAKE_RUN = cd $(BAKEFS_COMPONENT_DIR) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEFILES \
  $(RUMPMAKE) -f $(abspath $(BAKEFS_SRC))/platform/rump/Makefile ZSTD_SRC=$(abspath $(BAKEFS_ZSTD_SRC))

ifneq ($(strip $(RUMPMAKE)),)
$(BAKEFS_COMPONENT): $(BAKEFS_COMPONENT_INPUTS) | $(BAKEFS_ZSTD_SRC)/lib/zstd.h
	@mkdir -p $(BAKEFS_COMPONENT_DIR)
	$(BAKEFS_RUMPMAKE_RUN) depend
	$(BAKEFS_RUMPMAKE_RUN) all

$(BAKEFS_ZSTD_SRC)/lib/zstd.h:
	$(BAKEFS_SRC)/platform/rump/zstd/get-zstd-source.sh $(abspath $(BAKEFS_ZSTD_SRC))
else
# No RUMPMAKE: use a librumpfs_bakefs.a built beforehand in BAKEFS_COMPONENT_DIR.
$(BAKEFS_COMPONENT):
	@echo "bakefs.mk: no $@; set RUMPMAKE to rumprun's RROBJ/rumptools/rumpmake" \
	  "or BAKEFS_COMPONENT_DIR to the directory of a built librumpfs_bakefs.a" >&2; exit 2
endif

.PHONY: bakefs-image bakefs-component bakefs-clean
bakefs-image: $(BAKEFS_IMAGE_OBJECT)
bakefs-component: $(BAKEFS_COMPONENT)
bakefs-clean:
	rm -f $(BAKEFS_IMAGE) $(BAKEFS_IMAGE_OBJECT)
ifneq ($(strip $(RUMPMAKE)),)
	-test ! -d $(BAKEFS_COMPONENT_DIR) || $(BAKEFS_RUMPMAKE_RUN) cleandir
endif

# Leave the default goal to the including Makefile.
.DEFAULT_GOAL := $(BAKEFS_MK_GOAL)
