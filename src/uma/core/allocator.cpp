#include "uma/core/allocator.h"

#include "uma/core/gpu.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace uma {

namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kPage = 4096;
constexpr size_t kHugeThreshold = size_t(2) << 20;

// Block sizes are rounded so that near-equal requests share cache entries.
size_t round_size(size_t n) {
  if (n == 0) return kAlignment;
  if (n < kPage) return (n + kAlignment - 1) & ~(kAlignment - 1);
  return (n + kPage - 1) & ~(kPage - 1);
}

class CachingAllocator {
 public:
  CachingAllocator() {
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGE_SIZE);
    size_t ram = (pages > 0 && page > 0) ? size_t(pages) * size_t(page) : (size_t(16) << 30);
    memory_limit_ = ram + ram / 2;
    cache_limit_ = memory_limit_;
  }

  allocator::Buffer malloc(size_t size) {
    size_t block = round_size(size);
    std::unique_lock lock(mutex_);
    // Reuse a cached block of at least `block` bytes and less than twice that.
    auto it = cache_.lower_bound(block);
    if (it != cache_.end() && it->first < 2 * block) {
      void* p = it->second;
      size_t bsize = it->first;
      cache_.erase(it);
      cache_bytes_ -= bsize;
      sizes_[p] = bsize;
      note_active(bsize);
      return {p, size};
    }
    if (active_ + block > memory_limit_) {
      free_cache_locked(0);
      if (active_ + block > memory_limit_) {
        throw out_of_memory("[malloc] out of memory: allocating " + std::to_string(size) +
                            " bytes would exceed the memory limit of " +
                            std::to_string(memory_limit_) + " bytes (" + std::to_string(active_) + " active)");
      }
    }
    if (cache_bytes_ + active_ + block > memory_limit_) free_cache_locked(0);
    lock.unlock();
    // Big blocks start on a 2 MiB boundary: madvise needs an aligned start,
    // and huge pages make the first touch of a fresh GiB ~5x cheaper.
    size_t align = block >= kHugeThreshold ? kHugeThreshold : kAlignment;
    void* p = std::aligned_alloc(align, block);
    if (!p) {
      lock.lock();
      free_cache_locked(0);
      lock.unlock();
      p = std::aligned_alloc(align, block);
      if (!p) throw out_of_memory("[malloc] out of memory: the system could not provide " + std::to_string(size) + " bytes");
    }
    if (block >= kHugeThreshold) madvise(p, block, MADV_HUGEPAGE);
    lock.lock();
    sizes_[p] = block;
    note_active(block);
    return {p, size};
  }

  void free(allocator::Buffer b) {
    if (!b.ptr) return;
    std::lock_guard lock(mutex_);
    auto it = sizes_.find(b.ptr);
    if (it == sizes_.end()) return;  // not ours
    size_t bsize = it->second;
    sizes_.erase(it);
    active_ -= bsize;
    if (bsize > cache_limit_) {
      std::free(b.ptr);
      return;
    }
    if (cache_bytes_ + bsize > cache_limit_) free_cache_locked(cache_limit_ - bsize);
    cache_.emplace(bsize, b.ptr);
    cache_bytes_ += bsize;
  }

  size_t active() {
    std::lock_guard lock(mutex_);
    return active_;
  }
  size_t peak() {
    std::lock_guard lock(mutex_);
    return peak_;
  }
  void reset_peak() {
    std::lock_guard lock(mutex_);
    peak_ = active_;
  }
  size_t cache() {
    std::lock_guard lock(mutex_);
    return cache_bytes_;
  }
  size_t memory_limit() {
    std::lock_guard lock(mutex_);
    return memory_limit_;
  }
  size_t set_memory_limit(size_t limit) {
    std::lock_guard lock(mutex_);
    size_t old = memory_limit_;
    memory_limit_ = limit;
    return old;
  }
  size_t set_cache_limit(size_t limit) {
    std::lock_guard lock(mutex_);
    size_t old = cache_limit_;
    cache_limit_ = limit;
    free_cache_locked(limit);
    return old;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    free_cache_locked(0);
  }

 private:
  void note_active(size_t n) {
    active_ += n;
    if (active_ > peak_) peak_ = active_;
  }
  // Frees cached blocks, largest first, until the cache holds at most `target`.
  void free_cache_locked(size_t target) {
    while (cache_bytes_ > target && !cache_.empty()) {
      auto it = std::prev(cache_.end());
      std::free(it->second);
      cache_bytes_ -= it->first;
      cache_.erase(it);
    }
  }

  std::mutex mutex_;
  std::multimap<size_t, void*> cache_;
  std::map<void*, size_t> sizes_;
  size_t active_ = 0;
  size_t peak_ = 0;
  size_t cache_bytes_ = 0;
  size_t memory_limit_ = 0;
  size_t cache_limit_ = 0;
};

CachingAllocator& instance() {
  static CachingAllocator* a = new CachingAllocator();  // never destroyed: arrays may outlive main
  return *a;
}

}  // namespace

namespace allocator {
Buffer malloc(size_t size) { return instance().malloc(size); }
void free(Buffer b) { instance().free(b); }
}  // namespace allocator

// With a GPU backend the figures add the device bytes to the host ones.
size_t get_active_memory() { return instance().active() + detail::gpu_active_memory(); }
size_t get_peak_memory() { return instance().peak() + detail::gpu_peak_memory(); }
void reset_peak_memory() {
  instance().reset_peak();
  detail::gpu_reset_peak_memory();
}
size_t get_cache_memory() { return instance().cache() + detail::gpu_cache_memory(); }
size_t set_memory_limit(size_t limit) { return instance().set_memory_limit(limit); }
size_t set_cache_limit(size_t limit) { return instance().set_cache_limit(limit); }
size_t get_memory_limit() { return instance().memory_limit(); }
void clear_cache() {
  instance().clear();
  detail::gpu_clear_cache();
}

}  // namespace uma
