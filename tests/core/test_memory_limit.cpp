// set_memory_limit: an array whose buffer would pass the limit fails to
// evaluate with uma::out_of_memory naming "out of memory", the bytes asked
// and the limit; nothing is held after the failure, and the same array
// evaluates once the limit allows it (uma serve --memory-limit relies on it).
#include <gtest/gtest.h>

#include <string>

#include "uma/uma.h"

using namespace uma;

namespace {

// Restores the limit however the test ends.
struct LimitGuard {
  size_t old;
  explicit LimitGuard(size_t limit) : old(set_memory_limit(limit)) {}
  ~LimitGuard() { set_memory_limit(old); }
};

}  // namespace

TEST(MemoryLimit, PastTheLimitIsOutOfMemoryAndLeavesNothingHeld) {
  clear_cache();
  const size_t before = get_active_memory();
  const size_t n = 1 << 20;  // 4 MiB of float32
  {
    LimitGuard guard(before + (1 << 20));
    array big = add(full({int(n)}, 1.0f), array(2.0f));
    try {
      eval(big);
      FAIL() << "a 4 MiB array evaluated under a 1 MiB allowance";
    } catch (const out_of_memory& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("out of memory"), std::string::npos) << what;
      EXPECT_NE(what.find(std::to_string(before + (1 << 20))), std::string::npos) << what;
    }
    EXPECT_LE(get_active_memory(), before + (1 << 20));
    // Small arrays still fit.
    array small = add(full({16}, 1.0f), array(2.0f));
    eval(small);
    EXPECT_EQ(small.data<float>()[15], 3.0f);
  }
  // With the old limit back, the same computation gives its values.
  array big = add(full({int(n)}, 1.0f), array(2.0f));
  eval(big);
  EXPECT_EQ(big.data<float>()[0], 3.0f);
  EXPECT_EQ(big.data<float>()[n - 1], 3.0f);
}
