/* The contract for an image linked into a program.
 *
 * The image lives in a section named BAKEFS_EMBED_SECTION ("bakefs_image"), allocated and
 * read-only, aligned to at least 16 bytes, holding one image (padding after it is allowed:
 * the superblock gives the image size), or several back to back when several objects carry
 * one each: each starts at a multiple of 16 bytes, with zero bytes between
 * (bakefs_image_length() in bakefs.h finds where one ends). The rump component mounts the one
 * without a mount record at `/` and the others where their records say (mkimage --mount-at). Because the name is a C identifier, GNU ld,
 * gold, lld and NetBSD's ld define __start_bakefs_image and __stop_bakefs_image around it with
 * no linker script. Both start with "__", so a rump kernel's symbol renaming (which prefixes
 * every global with "rumpns_" except names beginning with "rump", "RUMP" or "__") leaves them
 * alone: the application object that carries the image and the kernel component that mounts
 * it see the same symbols. The component declares them weak, so a program without an image
 * still links, with both symbols 0.
 *
 * Tools find the image in a program by this section name (strip keeps sections), and in any
 * other file by the superblock magic and checksum.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_EMBED_H
#define BAKEFS_EMBED_H

#define BAKEFS_EMBED_SECTION "bakefs_image"
#define BAKEFS_EMBED_ALIGN 16

#ifdef __cplusplus
extern "C" {
#endif

/* Linker-defined bounds of the section; both 0 when no image is linked in. */
extern const unsigned char __start_bakefs_image[] __attribute__((weak));
extern const unsigned char __stop_bakefs_image[] __attribute__((weak));

#ifdef __cplusplus
}
#endif

#endif /* BAKEFS_EMBED_H */
