// The full check on demand: every checksum, the block layout, every inode and directory, and
// link counts against references. Its work is linear in the image: objects that inodes may
// share (block lists, xattr sets) are checked once.
// SPDX-License-Identifier: BSD-2-Clause
#include "dir.h"

using namespace bakefs;

namespace {

// A set of shared heap objects already checked, keyed by (heap offset, two more keys), with the
// result of the check. Open addressing in memory from the platform; when that memory is not to
// be had, every object is checked each time (slower, same answer).
class CheckedSet {
 public:
  struct Entry {
    uint64_t offset;  // heap offset + 1; 0 marks an empty slot
    uint64_t key;
    uint32_t key2;
    uint32_t value;
    bool sound;
  };

  CheckedSet(const Platform& platform, uint32_t items) : platform_(platform) {
    uint64_t capacity = 16;
    while (capacity < uint64_t{items} * 2) capacity *= 2;
    if (capacity > SIZE_MAX / sizeof(Entry)) return;
    entries_ = platform.alloc_array<Entry>(static_cast<size_t>(capacity));
    if (entries_ != nullptr) mask_ = capacity - 1;
  }
  ~CheckedSet() {
    if (entries_ != nullptr) platform_.free_array(entries_, static_cast<size_t>(mask_ + 1));
  }
  CheckedSet(const CheckedSet&) = delete;
  CheckedSet& operator=(const CheckedSet&) = delete;

  bool have_memory() const { return entries_ != nullptr; }

  // The entry for (offset, key, key2), or nullptr.
  const Entry* find(uint64_t offset, uint64_t key, uint32_t key2) const {
    if (entries_ == nullptr) return nullptr;
    for (uint64_t i = slot(offset, key);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.offset == 0) return nullptr;
      if (e.offset == offset + 1 && e.key == key && e.key2 == key2) return &e;
    }
  }
  void insert(uint64_t offset, uint64_t key, uint32_t key2, uint32_t value, bool sound) {
    if (entries_ == nullptr || used_ * 2 >= mask_) return;  // full: check again next time
    uint64_t i = slot(offset, key);
    while (entries_[i].offset != 0) i = (i + 1) & mask_;
    entries_[i] = {offset + 1, key, key2, value, sound};
    ++used_;
  }

 private:
  uint64_t slot(uint64_t offset, uint64_t key) const {
    return ((offset * 0x9e3779b97f4a7c15ull) ^ (key * 0xc2b2ae3d27d4eb4full)) >> 17 & mask_;
  }

  const Platform& platform_;
  Entry* entries_ = nullptr;
  uint64_t mask_ = 0;
  uint64_t used_ = 0;
};

class Checker {
 public:
  Checker(bakefs_fs& fs, bakefs_report_fn report, void* ctx, uint32_t max_problems)
      : fs_(fs),
        report_(report),
        ctx_(ctx),
        max_(max_problems),
        lists_(fs.platform, fs.geo.inode_count),
        xattr_sets_(fs.platform, fs.geo.inode_count),
        dir_blocks_(fs.platform, fs.geo.inode_count) {
    const Platform& p = fs.platform;
    references_ = p.alloc_array<uint32_t>(fs.geo.slot_count);
    dir_names_ = p.alloc_array<uint8_t>(fs.geo.slot_count);
    if (references_ == nullptr || dir_names_ == nullptr || !lists_.have_memory() ||
        !xattr_sets_.have_memory() || !dir_blocks_.have_memory()) {
      out_of_memory_ = true;
    }
  }
  ~Checker() {
    fs_.platform.free_array(references_, fs_.geo.slot_count);
    fs_.platform.free_array(dir_names_, fs_.geo.slot_count);
  }
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  void check_units();
  void check_blocks();
  void check_inodes();
  void check_boot() { failed(check_boot_records(fs_), "boot records", 0); }
  int result() const;

 private:
  bool full() const { return max_ != 0 && problems_ >= max_; }
  void problem(const Message& m) {
    if (full()) return;
    ++problems_;
    if (report_ != nullptr) report_(ctx_, m.c_str());
  }
  // An outcome that holds for the next inode to share the object: not a failed read of a
  // source, not memory that ran out.
  static bool settled(Status s) {
    return s.ok() || (s.error() != Error::kIo && s.error() != Error::kNoMemory);
  }
  // Records a failed Status with context; true if s failed.
  bool failed(Status s, const char* what, uint64_t index) {
    if (s.ok()) return false;
    // Neither is damage: the check is incomplete, and says so in its result.
    if (s.error() == Error::kNoMemory) {
      out_of_memory_ = true;
      return true;
    }
    if (s.error() == Error::kIo && !full()) ++io_errors_;  // a source's read; reported
    if (s.error() == Error::kChecksum) saw_checksum_ = true;
    problem(Message() << what << " " << index << ": " << bakefs_strerror(s.code()));
    return true;
  }

  Status check_regular(const InodeInfo& n);
  Status check_block_list(const InodeInfo& n, uint64_t listed, uint32_t tail, uint32_t& holes);
  Status check_directory(const InodeInfo& n);
  Status check_xattrs(const InodeInfo& n);
  void check_link_counts();

  bakefs_fs& fs_;
  bakefs_report_fn report_;
  void* ctx_;
  uint32_t max_;
  CheckedSet lists_, xattr_sets_, dir_blocks_;
  uint32_t* references_ = nullptr;  // per slot: names of it, plus ".." of its subdirectories
  uint8_t* dir_names_ = nullptr;    // per slot: names of a directory (must be 1; root 0)
  uint32_t problems_ = 0;
  bool saw_checksum_ = false;
  uint32_t io_errors_ = 0;  // of problems_: reads of a source that failed
  bool out_of_memory_ = false;
};

void Checker::check_units() {
  for (uint32_t unit = 0; unit < fs_.geo.unit_count && !full(); ++unit) {
    failed(fs_.verify_unit(unit, true), "metadata unit", unit);
  }
}

void Checker::check_blocks() {
  const Platform& p = fs_.platform;
  uint8_t* scratch = static_cast<uint8_t*>(p.alloc(fs_.geo.block_size, 64));
  if (scratch == nullptr) {
    out_of_memory_ = true;
    return;
  }
  uint64_t expected = fs_.geo.data.offset;
  for (uint32_t id = 0; id < fs_.geo.block_count && !full(); ++id) {
    auto b = fs_.load_block(id);
    if (failed(b.ok() ? Status() : Status(b.error()), "block", id)) continue;
    const BlockInfo& block = b.value();
    if (io_errors_ == 0 && block.offset != expected) {  // (an entry not read: where is unknown)
      problem(Message() << "block " << id << ": not where the previous block ends (offset "
                        << block.offset << ", expected " << expected << ")");
    }
    expected = block.offset + block.stored_size;
    failed(fs_.fill_block(id, block, scratch, true), "block", id);  // checksum, then zstd
  }
  if (io_errors_ == 0 && expected != fs_.geo.data.offset + fs_.geo.data.size) {
    problem(Message() << "data extent has " << fs_.geo.data.offset + fs_.geo.data.size - expected
                      << " bytes after the last block");
  }
  p.free(scratch, fs_.geo.block_size);
}

// The listed blocks of a file: each a hole or a block of exactly the expected size. Files with
// the same list share the work.
Status Checker::check_block_list(const InodeInfo& n, uint64_t listed, uint32_t tail,
                                 uint32_t& holes) {
  if (const CheckedSet::Entry* seen = lists_.find(n.block_list(), listed, tail)) {
    holes = seen->value;
    return seen->sound ? Status() : Status(Error::kCorrupt);
  }
  holes = 0;
  Status s;
  for (uint64_t index = 0; index < listed && s.ok(); ++index) {
    auto where = fs_.place(n, index << fs_.geo.block_log);
    if (!where.ok()) {
      s = where.error();
    } else if (where.value().block_id == fmt::kHoleBlock) {
      ++holes;
    } else {
      auto block = fs_.placed_block(where.value());
      if (!block.ok()) s = block.error();
    }
  }
  if (settled(s)) lists_.insert(n.block_list(), listed, tail, holes, s.ok());
  return s;
}

Status Checker::check_regular(const InodeInfo& n) {
  const FileGeometry g = FileGeometry::of(n.size, n.flags, fs_.geo.block_log);
  uint32_t holes = 0;
  if (g.listed != 0) {
    BAKEFS_CHECK(check_block_list(n, g.listed, g.tail_in_fragment ? 0 : g.tail, holes));
  }
  if (g.tail_in_fragment) {
    Placement where = BAKEFS_TRY(fs_.place(n, g.full << fs_.geo.block_log));
    (void)BAKEFS_TRY(fs_.placed_block(where));
  }
  uint32_t recorded = BAKEFS_TRY(fs_.hole_count(n));
  if (holes != recorded || (holes == 0 && n.sparse())) return Error::kCorrupt;
  return {};
}

// The rules of lookup and readdir (dir.h), applied to every entry: names, order, and the
// inode each names (entry_inode()); then the references for the link counts.
Status Checker::check_directory(const InodeInfo& n) {
  DirBlock block = BAKEFS_TRY(DirBlock::open(fs_, n));
  // Two directories never share entries: that is how loops and doubled trees start. (Empty
  // directories may share an empty block.)
  if (block.entry_count() != 0) {
    if (dir_blocks_.find(block.heap_offset(), 0, 0) != nullptr) return Error::kCorrupt;
    dir_blocks_.insert(block.heap_offset(), 0, 0, 0, true);
  }
  DirEntryInfo previous{};
  for (uint32_t i = 0; i < block.entry_count(); ++i) {
    DirEntryInfo e = BAKEFS_TRY(block.entry(i));
    if (!follows(previous, e)) return Error::kCorrupt;
    previous = e;
    InodeInfo child = BAKEFS_TRY(fs_.entry_inode(n.ino, e.ino, e.type));
    if (references_ != nullptr) {
      references_[e.ino - 1] += 1;
      if (child.is_dir()) references_[n.ino - 1] += 1;  // the child's ".."
    }
    if (child.is_dir() && dir_names_ != nullptr && dir_names_[e.ino - 1] < 255) {
      dir_names_[e.ino - 1] += 1;
    }
  }
  return {};
}

Status Checker::check_xattrs(const InodeInfo& n) {
  if ((n.flags & fmt::kInodeHasXattrs) == 0) return {};
  if (const CheckedSet::Entry* seen = xattr_sets_.find(n.xattr_ref, 0, 0)) {
    return seen->sound ? Status() : Status(Error::kCorrupt);
  }
  Status s = fs_.check_xattr_set(n.xattr_ref);
  if (settled(s)) xattr_sets_.insert(n.xattr_ref, 0, 0, 0, s.ok());
  return s;
}

void Checker::check_inodes() {
  uint32_t found = 0;
  for (bakefs_ino ino = 1; ino <= fs_.geo.slot_count && !full(); ++ino) {
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
      case fmt::kTypeSymlink: {
        auto target = fs_.symlink_target(n);
        s = target.ok() ? Status() : Status(target.error());
        break;
      }
      default:
        break;
    }
    if (s.ok()) s = check_xattrs(n);
    if (s.ok() && n.nlink == 0) s = Error::kCorrupt;
    failed(s, "inode", ino);
  }
  // What the counts below need is every inode and every directory: not after a failed read.
  if (io_errors_ != 0) return;
  if (found != fs_.geo.inode_count) {
    problem(Message() << "inode table holds " << found << " inodes, the superblock says "
                      << fs_.geo.inode_count);
  }
  check_link_counts();
}

void Checker::check_link_counts() {
  if (references_ == nullptr || dir_names_ == nullptr || full()) return;
  references_[fmt::kRootIno - 1] += 1;  // the root's ".." is itself
  for (bakefs_ino ino = 1; ino <= fs_.geo.slot_count && !full(); ++ino) {
    auto r = fs_.load_inode(ino);
    if (!r.ok()) continue;
    const InodeInfo& n = r.value();
    if ((n.flags & fmt::kInodeExtended) != 0) ++ino;
    uint32_t expected = references_[n.ino - 1] + (n.is_dir() ? 1 : 0);  // its "."
    if (n.nlink != expected) {
      problem(Message() << "inode " << n.ino << ": link count " << n.nlink << ", but " << expected
                        << " references");
    }
    if (n.is_dir() && dir_names_[n.ino - 1] != (n.ino == fmt::kRootIno ? 0 : 1)) {
      problem(Message() << "directory " << n.ino << " has " << uint32_t{dir_names_[n.ino - 1]}
                        << " names");
    }
  }
}

int Checker::result() const {
  if (problems_ > io_errors_) return saw_checksum_ ? BAKEFS_ECHECKSUM : BAKEFS_ECORRUPT;
  if (io_errors_ != 0) return BAKEFS_EIO;  // no damage seen in what could be read
  // Sound as far as it went; without the memory for the link counts that is not far enough.
  return out_of_memory_ ? BAKEFS_ENOMEM : BAKEFS_OK;
}

}  // namespace

extern "C" int bakefs_check(bakefs_fs* fs, bakefs_report_fn report, void* ctx,
                            uint32_t max_problems) {
  if (fs == nullptr) return BAKEFS_EINVAL;
  Checker checker(*fs, report, ctx, max_problems);
  checker.check_units();
  checker.check_blocks();
  checker.check_inodes();
  checker.check_boot();
  return checker.result();
}
