// The full check on demand: every checksum, the block layout, every inode and directory, and
// link counts against references.
// SPDX-License-Identifier: BSD-2-Clause
#include "fs.h"

using namespace bakefs;

namespace {

class Checker {
 public:
  Checker(bakefs_fs& fs, bakefs_report_fn report, void* ctx, uint32_t max_problems,
          uint32_t* references)
      : fs_(fs), report_(report), ctx_(ctx), max_(max_problems), references_(references) {}

  bool full() const { return max_ != 0 && problems_ >= max_; }
  uint32_t problems() const { return problems_; }
  bool saw_checksum() const { return saw_checksum_; }

  void problem(const Message& m) {
    ++problems_;
    if (report_ != nullptr) report_(ctx_, m.c_str());
  }
  // Records a failed Status with context; true if s failed.
  bool failed(Status s, const char* what, uint64_t index) {
    if (s.ok()) return false;
    if (s.error() == Error::kChecksum) saw_checksum_ = true;
    problem(Message() << what << " " << index << ": " << bakefs_strerror(s.code()));
    return true;
  }

  void check_units();
  void check_blocks();
  void check_inodes();

 private:
  Status check_regular(const InodeInfo& n);
  Status check_directory(const InodeInfo& n);
  Status check_xattrs(const InodeInfo& n);

  bakefs_fs& fs_;
  bakefs_report_fn report_;
  void* ctx_;
  uint32_t max_;
  uint32_t* references_;  // links found per inode; nullptr when memory was short
  uint32_t problems_ = 0;
  bool saw_checksum_ = false;
};

void Checker::check_units() {
  for (uint32_t unit = 0; unit < fs_.unit_count && !full(); ++unit) {
    failed(fs_.verify_unit(unit, true), "metadata unit", unit);
  }
}

void Checker::check_blocks() {
  const Platform& p = fs_.platform;
  uint8_t* scratch = static_cast<uint8_t*>(p.alloc(fs_.block_size, 64));
  if (scratch == nullptr) {
    problem(Message() << "out of memory for the block check");
    return;
  }
  uint64_t expected = fs_.data.offset;
  for (uint32_t id = 0; id < fs_.block_count && !full(); ++id) {
    auto b = fs_.load_block(id);
    if (failed(b.ok() ? Status() : Status(b.error()), "block", id)) continue;
    const BlockInfo& block = b.value();
    if (block.offset != expected) {
      problem(Message() << "block " << id << ": not where the previous block ends (offset "
                        << block.offset << ", expected " << expected << ")");
    }
    expected = block.offset + block.stored_size;
    if (failed(fs_.verify_block(id, block, true), "block", id)) continue;
    if (!block.raw()) failed(fs_.decompress(block, scratch), "block", id);
  }
  if (!full() && expected != fs_.data.offset + fs_.data.size) {
    problem(Message() << "data extent has " << fs_.data.offset + fs_.data.size - expected
                      << " bytes after the last block");
  }
  p.free(scratch, fs_.block_size);
}

Status Checker::check_regular(const InodeInfo& n) {
  // bakefs_extents checks every block the file uses: ids, sizes, the tail's place.
  uint32_t holes = 0;
  auto count = [](void* ctx, const bakefs_extent* e) {
    if (e->block == BAKEFS_HOLE) ++*static_cast<uint32_t*>(ctx);
    return 0;
  };
  int s = bakefs_extents(&fs_, n.ino, count, &holes);
  if (s != BAKEFS_OK) return static_cast<Error>(s);
  uint32_t recorded = BAKEFS_TRY(fs_.hole_count(n));
  if (holes != recorded || (holes == 0 && n.sparse())) return Error::kCorrupt;
  return {};
}

Status Checker::check_directory(const InodeInfo& n) {
  if (!fs_.heap.contains(n.data, n.size)) return Error::kCorrupt;
  uint64_t names_end = uint64_t{n.aux0} * sizeof(fmt::DirEntry);
  const uint8_t* prev = nullptr;
  uint32_t prev_length = 0;
  for (uint32_t i = 0; i < n.aux0; ++i) {
    auto e = BAKEFS_TRY(
        fs_.meta_load<fmt::DirEntry>(fs_.heap, n.data + uint64_t{i} * sizeof(fmt::DirEntry)));
    uint32_t offset = e.name_offset.load(), length = e.name_length.load();
    if (length == 0 || length > fmt::kMaxNameLength || offset < names_end ||
        !fits(offset, length, n.size)) {
      return Error::kCorrupt;
    }
    const uint8_t* name = BAKEFS_TRY(fs_.meta_bytes(fs_.heap, n.data + offset, length));
    for (uint32_t k = 0; k < length; ++k) {
      if (name[k] == '/' || name[k] == '\0') return Error::kCorrupt;
    }
    if ((length == 1 && name[0] == '.') || (length == 2 && name[0] == '.' && name[1] == '.')) {
      return Error::kCorrupt;
    }
    if (prev != nullptr) {  // strictly ascending
      int c = compare_bytes(prev, name, min_of(prev_length, length));
      if (c > 0 || (c == 0 && prev_length >= length)) return Error::kCorrupt;
    }
    prev = name;
    prev_length = length;
    bakefs_ino ino = e.ino.load();
    if (ino == n.ino) return Error::kCorrupt;
    InodeInfo child = BAKEFS_TRY(fs_.load_inode(ino));
    if (e.type != child.mode >> 12) return Error::kCorrupt;
    if (child.is_dir() && child.aux1 != n.ino) return Error::kCorrupt;
    if (references_ != nullptr) {
      references_[ino - 1] += 1;
      if (child.is_dir()) references_[n.ino - 1] += 1;  // the child's ".."
    }
  }
  return {};
}

Status Checker::check_xattrs(const InodeInfo& n) {
  size_t needed = 0;
  int s = bakefs_listxattr(&fs_, n.ino, nullptr, 0, &needed);
  return s == BAKEFS_OK ? Status() : Status(static_cast<Error>(s));
}

void Checker::check_inodes() {
  uint32_t found = 0;
  for (bakefs_ino ino = 1; ino <= fs_.slot_count && !full(); ++ino) {
    auto r = fs_.load_inode(ino);
    if (failed(r.ok() ? Status() : Status(r.error()), "inode", ino)) continue;
    const InodeInfo& n = r.value();
    ++found;
    if ((n.flags & fmt::kInodeExtended) != 0) ++ino;  // its second slot
    Status s;
    switch (n.type()) {
      case fmt::kTypeRegular:
        s = check_regular(n);
        break;
      case fmt::kTypeDir:
        s = check_directory(n);
        break;
      case fmt::kTypeSymlink:
        s = fs_.heap.contains(n.data, n.size) && n.size != 0 ? Status() : Status(Error::kCorrupt);
        break;
      default:
        break;
    }
    if (s.ok()) s = check_xattrs(n);
    if (n.nlink == 0) s = Error::kCorrupt;
    failed(s, "inode", ino);
  }
  if (!full() && found != fs_.inode_count) {
    problem(Message() << "inode table holds " << found << " inodes, the superblock says "
                      << fs_.inode_count);
  }
  if (references_ == nullptr || full()) return;
  // The root is its own parent: "." and ".." of the root.
  references_[fmt::kRootIno - 1] += 1;
  for (bakefs_ino ino = 1; ino <= fs_.slot_count && !full(); ++ino) {
    auto r = fs_.load_inode(ino);
    if (!r.ok()) continue;
    const InodeInfo& n = r.value();
    if ((n.flags & fmt::kInodeExtended) != 0) ++ino;
    uint32_t expected = references_[n.ino - 1] + (n.is_dir() ? 1 : 0);  // its "."
    if (n.nlink != expected) {
      problem(Message() << "inode " << n.ino << ": link count " << n.nlink << ", but " << expected
                        << " references");
    }
  }
}

}  // namespace

extern "C" int bakefs_check(bakefs_fs* fs, bakefs_report_fn report, void* ctx,
                            uint32_t max_problems) {
  if (fs == nullptr) return BAKEFS_EINVAL;
  const Platform& p = fs->platform;
  uint32_t* refs = p.alloc_array<uint32_t>(fs->slot_count);
  if (refs == nullptr) p.log(1, "bakefs: check: not enough memory to count links; skipped");
  Checker checker(*fs, report, ctx, max_problems, refs);
  checker.check_units();
  checker.check_blocks();
  checker.check_inodes();
  p.free_array(refs, fs->slot_count);
  if (checker.problems() == 0) return BAKEFS_OK;
  return checker.saw_checksum() ? BAKEFS_ECHECKSUM : BAKEFS_ECORRUPT;
}
