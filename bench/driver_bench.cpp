// The driver-core benchmarks: mount, lookup, getattr, readdir, 4 KiB reads and the block
// cache, each paired with a baseline from the same run so that the goals read as ratios.
// SPDX-License-Identifier: BSD-2-Clause
#include "driver_bench.h"

#include <bakefs/format.h>
#include <zstd.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace bakefs::bench {
namespace {

constexpr size_t kSample = 4096;
constexpr uint32_t kPage = 4096;

uint64_t next_random(uint64_t& state) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

void check(int status, const std::string& what) {
  if (status != BAKEFS_OK) throw std::runtime_error(what + ": " + bakefs_strerror(status));
}

void read_back(const FileSystem& fs, bakefs_ino ino, const std::string& expected,
               const char* what) {
  std::string got;
  check(fs.read_all(ino, got), what);
  if (got != expected) throw std::runtime_error(std::string(what) + ": driver read wrong bytes");
}

// Every inode number in the image, found by walking it: numbers need not be dense.
void collect_inodes(const FileSystem& fs, bakefs_ino dir, std::vector<bakefs_ino>& out) {
  std::vector<Dirent> entries;
  check(fs.readdir(dir, entries), "readdir");
  for (const Dirent& e : entries) {
    out.push_back(e.ino);
    if (e.type == (0040000 >> 12)) collect_inodes(fs, e.ino, out);
  }
}

using Fn = void (*)(benchmark::State&, Fixture*);

benchmark::internal::Benchmark* add(const char* name, Fixture& f, Fn fn) {
  return benchmark::RegisterBenchmark(name, fn, &f);
}

// ---- Mount ------------------------------------------------------------------------------

void mount_cycle(benchmark::State& state, const posix::Image* image) {
  for (auto _ : state) {
    bakefs_fs* fs = nullptr;
    int s = bakefs_mount(image->data(), image->size(), &posix::platform(), nullptr, &fs);
    if (s != BAKEFS_OK) {
      state.SkipWithError(bakefs_strerror(s));
      break;
    }
    bakefs_unmount(fs);
  }
}

void open_cycle(benchmark::State& state, const std::string* path) {
  for (auto _ : state) {
    auto m = posix::MountedImage::open(*path);
    benchmark::DoNotOptimize(m.fs.get());
  }
}

// ---- Names and attributes ---------------------------------------------------------------

void lookup_sample(benchmark::State& state, const Fixture* f, bakefs_ino dir,
                   const std::vector<std::string>& names) {
  size_t i = 0;
  for (auto _ : state) {
    const std::string& name = names[i++ % names.size()];
    bakefs_ino ino = 0;
    int s = bakefs_lookup(f->large.get(), dir, name.data(), name.size(), &ino);
    if (s != BAKEFS_OK) {
      state.SkipWithError(bakefs_strerror(s));
      break;
    }
    benchmark::DoNotOptimize(ino);
  }
}

void resolve_deep(benchmark::State& state, Fixture* f) {
  for (auto _ : state) {
    bakefs_ino ino = 0;
    if (int s = f->large.resolve(f->images.deep_path, ino); s != BAKEFS_OK) {
      state.SkipWithError(bakefs_strerror(s));
      break;
    }
    benchmark::DoNotOptimize(ino);
  }
}

void getattr_random(benchmark::State& state, Fixture* f) {
  size_t i = static_cast<size_t>(state.thread_index()) * 977;
  for (auto _ : state) {
    bakefs_attr attr;
    int s = bakefs_getattr(f->large.get(), f->inode_sample[i++ % kSample], &attr);
    if (s != BAKEFS_OK) {
      state.SkipWithError(bakefs_strerror(s));
      break;
    }
    benchmark::DoNotOptimize(attr);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

int count_entry(void* ctx, const char*, size_t, bakefs_ino, uint32_t, uint64_t, uint64_t) {
  ++*static_cast<uint64_t*>(ctx);
  return 0;
}

void readdir_all(benchmark::State& state, const Fixture* f, bakefs_ino dir) {
  uint64_t entries = 0;
  for (auto _ : state) {
    int s = bakefs_readdir(f->large.get(), dir, 0, count_entry, &entries);
    if (s != BAKEFS_OK) {
      state.SkipWithError(bakefs_strerror(s));
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(entries));
}

// ---- Reads ------------------------------------------------------------------------------

// Reads `size` bytes at offsets[i] (or sequentially when offsets is null) from one file.
void read_loop(benchmark::State& state, bakefs_fs* fs, bakefs_ino ino, uint64_t file_size,
               const std::vector<uint64_t>* offsets, uint32_t size) {
  std::vector<uint8_t> buf(size);
  uint64_t position = 0;
  size_t i = static_cast<size_t>(state.thread_index()) * 977;
  for (auto _ : state) {
    uint64_t offset = position;
    if (offsets != nullptr) {
      offset = (*offsets)[i++ % offsets->size()];
    } else {
      position += size;
      if (position + size > file_size) position = 0;
    }
    size_t done = 0;
    int s = bakefs_read(fs, ino, offset, buf.data(), size, &done);
    if (s != BAKEFS_OK || done != size) {
      state.SkipWithError(s != BAKEFS_OK ? bakefs_strerror(s) : "short read");
      break;
    }
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * size);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void map_raw(benchmark::State& state, Fixture* f) {
  size_t i = 0;
  for (auto _ : state) {
    const void* data = nullptr;
    size_t length = 0;
    int s = bakefs_map(f->large.get(), f->raw, f->random_offsets[i++ % kSample], &data, &length);
    if (s != BAKEFS_OK) {
      state.SkipWithError(bakefs_strerror(s));
      break;
    }
    benchmark::DoNotOptimize(data);
  }
}

// ---- Whole blocks against their physical limits -------------------------------------------

// Whole blocks of one file through spans, at offsets[i]: pinned or in place, copied out.
void spans_loop(benchmark::State& state, const FileSystem& fs, bakefs_ino ino,
                const std::vector<uint64_t>& offsets, uint32_t block_size) {
  bakefs_file file{};
  check(fs.open(ino, file), "open");
  std::vector<uint8_t> buf(block_size);
  bakefs_span spans[4];
  size_t i = 0;
  for (auto _ : state) {
    size_t count = 0;
    int s = fs.read_spans(file, offsets[i++ % offsets.size()], block_size, spans, 4, count);
    if (s != BAKEFS_OK || count == 0) {
      state.SkipWithError(s != BAKEFS_OK ? bakefs_strerror(s) : "nothing read");
      break;
    }
    size_t used = 0;
    for (size_t k = 0; k < count; ++k) {
      std::memcpy(buf.data() + used, spans[k].data, spans[k].length);
      used += spans[k].length;
    }
    fs.release(spans, count);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * block_size);
}

void memcpy_block(benchmark::State& state, Fixture* f) {
  std::vector<uint8_t> src(f->images.compressed_text.begin(),
                           f->images.compressed_text.begin() + f->block_size);
  std::vector<uint8_t> dst(f->block_size);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * f->block_size);
}

// The same frames as the driver decompresses, with one context and the dictionary loaded
// once: what zstd alone does.
void zstd_block(benchmark::State& state, Fixture* f) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ZSTD_DDict* ddict = f->dictionary.empty()
                          ? nullptr
                          : ZSTD_createDDict(f->dictionary.data(), f->dictionary.size());
  std::vector<uint8_t> dst(f->block_size);
  size_t i = 0;
  for (auto _ : state) {
    const std::string& frame = f->frames[i++ % f->frames.size()];
    size_t n = ddict != nullptr ? ZSTD_decompress_usingDDict(dctx, dst.data(), dst.size(),
                                                             frame.data(), frame.size(), ddict)
                                : ZSTD_decompressDCtx(dctx, dst.data(), dst.size(), frame.data(),
                                                      frame.size());
    if (ZSTD_isError(n) || n != dst.size()) {
      state.SkipWithError("zstd: not a block");
      break;
    }
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * f->block_size);
  ZSTD_freeDDict(ddict);
  ZSTD_freeDCtx(dctx);
}

// compressed.txt's full compressed blocks, from its extents and the image's block table.
void collect_frames(Fixture& f) {
  namespace fmt = ::bakefs::format;
  std::vector<bakefs_extent> extents;
  auto emit = [](void* ctx, const bakefs_extent* e) -> int {
    static_cast<std::vector<bakefs_extent>*>(ctx)->push_back(*e);
    return 0;
  };
  check(bakefs_extents(f.large.get(), f.compressed, emit, &extents), "extents");
  fmt::Superblock sb;
  std::memcpy(&sb, f.large_image.data(), sizeof(sb));
  for (const bakefs_extent& e : extents) {
    if (e.block == BAKEFS_HOLE || e.stored_size == e.raw_size || e.raw_size != f.block_size ||
        (e.flags & BAKEFS_EXTENT_FRAGMENT) != 0) {
      continue;
    }
    fmt::BlockEntry b;
    std::memcpy(&b, f.large_image.data() + sb.blocks.offset.load() + uint64_t{e.block} * sizeof(b),
                sizeof(b));
    f.frames.emplace_back(reinterpret_cast<const char*>(f.large_image.data()) + b.offset.load(),
                          b.stored_size.load());
  }
  if (f.frames.size() < 16) throw std::runtime_error("too few compressed blocks");
  f.dictionary.assign(reinterpret_cast<const char*>(f.large_image.data()) +
                          sb.dictionary.offset.load(),
                      sb.dictionary.size.load());
}

Metric time_of(const std::string& name, double scale = 1) {
  return {name, "cpu_time", scale};
}
Metric rate_of(const std::string& name) {
  return {name, "items_per_second", 1};
}

void add_ratios(const Fixture& f, RatioReporter& r) {
  const double big = static_cast<double>(f.images.big_names.size());
  const double small = static_cast<double>(f.images.small_names.size());
  const double log_model = std::log2(big) / std::log2(small);
  char note[160];
  r.add({"mount: large image / small image", time_of("mount/large"), time_of("mount/small"),
         Goal::kAtMost, 1.5, "flat: mount reads the superblock only"});
  r.add({"map + mount file: large / small", time_of("open/large"), time_of("open/small"),
         Goal::kAtMost, 1.5, "flat, mmap included"});
  std::snprintf(note, sizeof(note), "log model %.2f, linear model %.0f", log_model, big / small);
  r.add({"lookup: " + std::to_string(f.images.big_names.size()) + "-entry dir / " +
             std::to_string(f.images.small_names.size()) + "-entry dir",
         time_of("lookup/big_dir"), time_of("lookup/small_dir"), Goal::kAtMost, 2 * log_model,
         note});
  r.add({"deep path: time per component / 100-entry lookup",
         time_of("resolve/deep", f.images.deep_components), time_of("lookup/small_dir"),
         Goal::kAtMost, 1.5, std::to_string(f.images.deep_components) + " components"});
  r.add({"readdir: time per entry, big dir / small dir", time_of("readdir/big_dir", big),
         time_of("readdir/small_dir", small), Goal::kAtMost, 1.5, "linear in entries"});
  r.add({"getattr / lookup in 100-entry dir", time_of("getattr/random"),
         time_of("lookup/small_dir"), Goal::kInfo, 0, ""});
  r.add({"4 KiB read: cache miss / cache hit", time_of("read4k/cache_miss"),
         time_of("read4k/cache_hit"), Goal::kAtLeast, 5, "a hit must be far cheaper"});
  r.add({"cache miss: with checksum / without", time_of("read4k/cache_miss"),
         time_of("read4k/cache_miss_trusted"), Goal::kInfo, 0, "cost of lazy verification"});
  r.add({"sequential 4 KiB: raw / compressed", time_of("read4k/raw_sequential"),
         time_of("read4k/compressed_sequential"), Goal::kAtMost, 1, ""});
  r.add({"random 4 KiB: raw / compressed", time_of("read4k/raw_random"),
         time_of("read4k/compressed_random"), Goal::kAtMost, 1, "cache of 8 MiB"});
  r.add({"compressed 4 KiB: random / sequential", time_of("read4k/compressed_random"),
         time_of("read4k/compressed_sequential"), Goal::kInfo, 0, ""});
  r.add({"whole block: compressed / raw", time_of("read_block/compressed"),
         time_of("read_block/raw"), Goal::kInfo, 0, "decompression against memcpy"});
  r.add({"map / read of raw 4 KiB", time_of("map/raw"), time_of("read4k/raw_random"), Goal::kInfo,
         0, "zero-copy"});
  r.add({"warm whole block through spans / memcpy of a block", time_of("block/spans_warm"),
         time_of("block/memcpy"), Goal::kAtMost, 2, "at least half of memcpy bandwidth"});
  r.add({"cold compressed block through spans / bare zstd", time_of("block/spans_cold"),
         time_of("block/zstd"), Goal::kAtMost, 1.25,
         "at least 80% of zstd's throughput, checksums on"});
  // Two threads on two cores: the wall-clock throughput should double, and the CPU time of
  // one read should not grow. Only the second holds on a machine that is not idle.
  const std::string one = "read4k/warm_random/real_time/threads:1";
  const std::string two = "read4k/warm_random/real_time/threads:2";
  r.add({"warm random 4 KiB: 2 threads / 1, throughput (wall)", rate_of(two), rate_of(one),
         Goal::kInfo, 0, "2 when two cores are idle"});
  r.add({"warm random 4 KiB: 2 threads / 1, CPU time per read", time_of(two), time_of(one),
         Goal::kAtMost, 1.5, "contention"});
  r.add({"control, getattr: 2 threads / 1, throughput (wall)",
         rate_of("getattr/parallel/real_time/threads:2"),
         rate_of("getattr/parallel/real_time/threads:1"), Goal::kInfo, 0,
         "2 when two cores are idle"});
}

}  // namespace

void set_up(Fixture& f) {
  f.small_image = posix::Image::map_file(f.images.small_image);
  f.large_image = posix::Image::map_file(f.images.large_image);
  const bakefs_platform& p = posix::platform();
  check(f.large.mount(f.large_image.data(), f.large_image.size(), p), "mount large image");
  bakefs_fsstat st;
  check(f.large.statfs(st), "statfs");
  f.block_size = st.block_size;
  f.inode_count = static_cast<uint32_t>(st.inode_count);
  check(f.streaming.mount(f.large_image.data(), f.large_image.size(), p), "mount streaming");
  bakefs_mount_options tiny{};
  tiny.cache_bytes = size_t{8} * f.block_size;
  check(f.tiny_cache.mount(f.large_image.data(), f.large_image.size(), p, &tiny), "mount tiny");
  tiny.flags = BAKEFS_MOUNT_NO_VERIFY;
  check(f.tiny_cache_trust.mount(f.large_image.data(), f.large_image.size(), p, &tiny),
        "mount tiny, trusted");

  check(f.large.resolve("big", f.big_dir), "big");
  check(f.large.resolve("small", f.small_dir), "small");
  check(f.large.resolve("data/compressed.txt", f.compressed), "compressed.txt");
  check(f.large.resolve("data/raw.bin", f.raw), "raw.bin");
  read_back(f.large, f.compressed, f.images.compressed_text, "compressed.txt");
  read_back(f.large, f.raw, f.images.raw_bytes, "raw.bin");
  std::vector<Dirent> entries;
  check(f.large.readdir(f.big_dir, entries), "readdir big");
  if (entries.size() != f.images.big_names.size()) throw std::runtime_error("big: entry count");
  std::vector<bakefs_ino> inodes{BAKEFS_ROOT_INO};
  collect_inodes(f.large, BAKEFS_ROOT_INO, inodes);
  if (inodes.size() < f.inode_count) throw std::runtime_error("walk: inodes missing");

  uint64_t state = 0x2545f4914f6cdd1dull;
  const auto& big = f.images.big_names;
  const auto& small = f.images.small_names;
  const uint64_t data = f.images.compressed_text.size();
  const uint64_t pages = data / kPage - 1;
  const uint64_t warm_pages = std::min<uint64_t>(pages, (4u << 20) / kPage);
  for (size_t i = 0; i < kSample; ++i) {
    f.big_sample.push_back(big[next_random(state) % big.size()]);
    f.small_sample.push_back(small[next_random(state) % small.size()]);
    f.inode_sample.push_back(inodes[next_random(state) % inodes.size()]);
    f.random_offsets.push_back(next_random(state) % pages * kPage);
    f.warm_offsets.push_back(next_random(state) % warm_pages * kPage);
  }
  const uint64_t blocks = data / f.block_size;
  if (blocks < 16) throw std::runtime_error("data files too small for the cache benchmarks");
  for (uint64_t b = 0; b < blocks; ++b) {
    f.miss_offsets.push_back(b * f.block_size + (b % (f.block_size / kPage)) * kPage);
  }
  collect_frames(f);
}

void register_benchmarks(Fixture& f, RatioReporter& reporter) {
  benchmark::RegisterBenchmark("mount/small", mount_cycle, &f.small_image);
  benchmark::RegisterBenchmark("mount/large", mount_cycle, &f.large_image);
  benchmark::RegisterBenchmark("open/small", open_cycle, &f.images.small_image);
  benchmark::RegisterBenchmark("open/large", open_cycle, &f.images.large_image);
  add("lookup/small_dir", f,
      [](benchmark::State& s, Fixture* x) { lookup_sample(s, x, x->small_dir, x->small_sample); });
  add("lookup/big_dir", f,
      [](benchmark::State& s, Fixture* x) { lookup_sample(s, x, x->big_dir, x->big_sample); });
  add("resolve/deep", f, resolve_deep);
  add("getattr/random", f, getattr_random);
  // The control for the threaded reads: getattr takes no lock, so it shows whether the
  // machine gives two threads two cores.
  add("getattr/parallel", f, getattr_random)->Threads(1)->Threads(2)->UseRealTime();
  add("readdir/small_dir", f,
      [](benchmark::State& s, Fixture* x) { readdir_all(s, x, x->small_dir); });
  add("readdir/big_dir", f, [](benchmark::State& s, Fixture* x) { readdir_all(s, x, x->big_dir); });

  add("read4k/compressed_sequential", f, [](benchmark::State& s, Fixture* x) {
    read_loop(s, x->large.get(), x->compressed, x->images.compressed_text.size(), nullptr, kPage);
  });
  add("read4k/raw_sequential", f, [](benchmark::State& s, Fixture* x) {
    read_loop(s, x->large.get(), x->raw, x->images.raw_bytes.size(), nullptr, kPage);
  });
  add("read4k/compressed_random", f, [](benchmark::State& s, Fixture* x) {
    read_loop(s, x->large.get(), x->compressed, 0, &x->random_offsets, kPage);
  });
  add("read4k/raw_random", f, [](benchmark::State& s, Fixture* x) {
    read_loop(s, x->large.get(), x->raw, 0, &x->random_offsets, kPage);
  });
  add("read4k/cache_hit", f, [](benchmark::State& s, Fixture* x) {
    static const std::vector<uint64_t> one{kPage};
    read_loop(s, x->tiny_cache.get(), x->compressed, 0, &one, kPage);
  });
  add("read4k/cache_miss", f, [](benchmark::State& s, Fixture* x) {
    read_loop(s, x->tiny_cache.get(), x->compressed, 0, &x->miss_offsets, kPage);
  });
  add("read4k/cache_miss_trusted", f, [](benchmark::State& s, Fixture* x) {
    read_loop(s, x->tiny_cache_trust.get(), x->compressed, 0, &x->miss_offsets, kPage);
  });
  add("read_block/compressed", f, [](benchmark::State& s, Fixture* x) {
    read_loop(s, x->streaming.get(), x->compressed, x->images.compressed_text.size(), nullptr,
              x->block_size);
  });
  add("read_block/raw", f, [](benchmark::State& s, Fixture* x) {
    read_loop(s, x->streaming.get(), x->raw, x->images.raw_bytes.size(), nullptr, x->block_size);
  });
  add("map/raw", f, map_raw);
  add("block/memcpy", f, memcpy_block);
  add("block/zstd", f, zstd_block);
  add("block/spans_warm", f, [](benchmark::State& s, Fixture* x) {
    // Whole blocks of the first 4 MiB: they stay in the 8 MiB cache.
    std::vector<uint64_t> offsets;
    for (uint64_t o = 0; o + x->block_size <= std::min<uint64_t>(4u << 20, x->images.compressed_text.size());
         o += x->block_size) {
      offsets.push_back(o);
    }
    spans_loop(s, x->large, x->compressed, offsets, x->block_size);
  });
  add("block/spans_cold", f, [](benchmark::State& s, Fixture* x) {
    // Every block in turn through a cache of 8: each one a miss, checksum and decompression.
    std::vector<uint64_t> offsets;
    for (uint64_t o = 0; o + x->block_size <= x->images.compressed_text.size(); o += x->block_size) {
      offsets.push_back(o);
    }
    spans_loop(s, x->tiny_cache, x->compressed, offsets, x->block_size);
  });
  add("read4k/warm_random", f,
      [](benchmark::State& s, Fixture* x) {
        read_loop(s, x->large.get(), x->compressed, 0, &x->warm_offsets, kPage);
      })
      ->Threads(1)
      ->Threads(2)
      ->UseRealTime();
  add_ratios(f, reporter);
}

}  // namespace bakefs::bench
