// CPU kernel of RandomBits: counter-based, so each output word depends only
// on its key and its position, never on how the work is split among threads.
#include <vector>

#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/ops/threefry.h"
#include "uma/core/primitives/random.h"

namespace uma {

void RandomBits::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& keys = inputs[0];
  out.set_data(allocator::malloc(out.nbytes()));
  size_t num_keys = keys.size() / 2;
  if (num_keys == 0 || out.size() == 0) return;
  std::vector<uint32_t> k(keys.size());
  detail::read_elements(keys, k.data(), uint32);  // any layout

  size_t bytes_per_key = out.nbytes() / num_keys;
  size_t pairs = random::random_bits_pairs(bytes_per_key);
  auto* base = static_cast<uint8_t*>(out.raw_ptr());
  // ~20 rounds per pair: a few thousand pairs are worth a thread.
  cpu::parallel_for(num_keys * pairs, 2048, [&](size_t begin, size_t end) {
    while (begin < end) {
      size_t key = begin / pairs, p0 = begin % pairs;
      size_t p1 = std::min(pairs, p0 + (end - begin));
      random::random_bits_fill({k[2 * key], k[2 * key + 1]}, base + key * bytes_per_key, bytes_per_key, p0, p1);
      begin += p1 - p0;
    }
  });
}

}  // namespace uma
