# zstd's decompressor compiled for a kernel: a BSD make fragment for a rump kernel component
# built with rumpmake (bsd.lib.mk), and the list CMake reads too (platform/rump/CMakeLists.txt
# parses the single-line BAKEFS_ZSTD_SRCS and BAKEFS_ZSTD_DEFS below: keep them on one line).
#
# Input:  ZSTD_SRC  an unpacked zstd source tree: get-zstd-source.sh DIR puts Debian's there.
# Output: SRCS += zstd's decompression sources (found through .PATH), each compiled with
#         BAKEFS_ZSTD_CPPFLAGS on top of the kernel's flags; BAKEFS_ZSTD_INCLUDE, the
#         directory of the zstd.h that the driver core must be compiled against.
#
# What the kernel gets: the frame decoder, Huffman/FSE decoding, dictionaries and zstd's own
# XXH64 (namespaced ZSTD_XXH64, for frame checksums). No compressor, no legacy formats, no
# assembly, no tracing hooks, no allocator (zstd_deps.h is replaced by
# include/bakefs_zstd_deps.h), no libc header: -nostdinc from the kernel's flags, plus the
# compiler's own freestanding headers.

.if !defined(ZSTD_SRC) || empty(ZSTD_SRC)
.error "zstd.mk: set ZSTD_SRC to a zstd source tree (platform/rump/zstd/get-zstd-source.sh DIR)"
.endif
.if !exists(${ZSTD_SRC}/lib/decompress/zstd_decompress.c)
.error "zstd.mk: ${ZSTD_SRC} is not a zstd source tree"
.endif

BAKEFS_ZSTD_DIR:=	${.PARSEDIR}
BAKEFS_ZSTD_INCLUDE=	${ZSTD_SRC}/lib

BAKEFS_ZSTD_SRCS=	entropy_common.c error_private.c fse_decompress.c xxhash.c zstd_common.c huf_decompress.c zstd_ddict.c zstd_decompress.c zstd_decompress_block.c
BAKEFS_ZSTD_DEFS=	-DZSTD_DISABLE_ASM -DZSTD_LEGACY_SUPPORT=0 -DDEBUGLEVEL=0 -DZSTD_NO_INTRINSICS -DZSTD_TRACE=0 -DZSTD_HEAPMODE=1 -DZSTDLIB_VISIBLE= -DZSTDERRORLIB_VISIBLE=

# The compiler's freestanding headers (<stddef.h>, <stdint.h>, <limits.h>), which -nostdinc
# takes away; our include/ comes first for its <limits.h>, which stops GCC's from chaining to
# the C library's. -ffreestanding here too: nbmkdep runs with CPPFLAGS only, and GCC's
# <stdint.h> chains to the C library's in hosted mode.
BAKEFS_ZSTD_CCINCLUDE!=	${CC} -print-file-name=include
BAKEFS_ZSTD_CPPFLAGS=	-ffreestanding -I${BAKEFS_ZSTD_DIR}/include -isystem ${BAKEFS_ZSTD_CCINCLUDE} \
			-include bakefs_zstd_deps.h ${BAKEFS_ZSTD_DEFS}
# zstd is not written to NetBSD's warning set; its symbols stay out of a shared library's
# exports (the rumpns_ renaming still applies to them in the archive).
BAKEFS_ZSTD_COPTS=	-fvisibility=hidden -fno-stack-protector -Wno-error -Wno-cast-qual \
			-Wno-missing-prototypes -Wno-shadow -Wno-unused-parameter \
			-Wno-strict-prototypes

.PATH:	${ZSTD_SRC}/lib/common ${ZSTD_SRC}/lib/decompress
SRCS+=	${BAKEFS_ZSTD_SRCS}
.for _f in ${BAKEFS_ZSTD_SRCS}
CPPFLAGS.${_f}+=	${BAKEFS_ZSTD_CPPFLAGS}
COPTS.${_f}+=		${BAKEFS_ZSTD_COPTS}
.endfor
