// AVX-512 float32 rows for Softmax and LogSumExp (softmax_avx512.cpp, built
// with AVX-512 flags); callers check cpu_features().has_avx512() first.
#pragma once

#include <cstdint>

namespace uma::cpu::avx512 {

// y = softmax(x) over n contiguous floats.
void softmax_row(const float* x, float* y, int64_t n);
// log(sum(exp(x))) of n >= 1 contiguous floats (-inf rows: -inf; +inf: +inf).
double logsumexp_row(const float* x, int64_t n);

}  // namespace uma::cpu::avx512
