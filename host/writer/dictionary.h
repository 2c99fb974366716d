// A zstd dictionary for an image, trained on samples of its files: small files and tails then
// compress as if they had the rest of the tree as context.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_DICTIONARY_H
#define BAKEFS_HOST_WRITER_DICTIONARY_H

#include <string>
#include <vector>

#include "writer/tree.h"

namespace bakefs::build {

// Trains a dictionary of at most `capacity` bytes on the beginnings of files spread evenly over
// `files` (in the order their data is written), for blocks of `block_size` bytes compressed at
// `level`. Returns "" when it would not pay for itself: too little to learn from, or less saved
// on the files' tails (where the dictionary is used) than the dictionary's own size.
// Deterministic: the same files give the same bytes.
std::string train_dictionary(const std::vector<const Inode*>& files, size_t capacity, int level,
                             uint32_t block_size);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_DICTIONARY_H
