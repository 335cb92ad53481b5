// Discrete Fourier transforms (MLX's mx.fft, NumPy's numpy.fft): names,
// defaults and normalization of MLX. Forward transforms are unscaled, inverse
// ones scaled by 1 / n. Inputs are cast to complex64 (rfft* to float32);
// outputs are complex64, irfft* float32. `n` / `s` give the transform's
// length along each axis: the input is zero-padded or truncated (from the
// end) to it; for irfft* it is the length of the real output, whose input
// is cut or padded to n / 2 + 1 along the last transformed axis (default
// n = 2 * (input length - 1)).
#pragma once

#include <vector>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma::fft {

// One axis (default the last; with a size `n`, the axis is given too, as
// fft(a, 3) means axis 3).
array fft(const array& a, int n, int axis, StreamOrDevice s = {});
array fft(const array& a, int axis = -1, StreamOrDevice s = {});
array ifft(const array& a, int n, int axis, StreamOrDevice s = {});
array ifft(const array& a, int axis = -1, StreamOrDevice s = {});
array rfft(const array& a, int n, int axis, StreamOrDevice s = {});
array rfft(const array& a, int axis = -1, StreamOrDevice s = {});
array irfft(const array& a, int n, int axis, StreamOrDevice s = {});
array irfft(const array& a, int axis = -1, StreamOrDevice s = {});

// Two axes (default the last two; with sizes `n`, the axes are given too, as
// Shape and std::vector<int> are one type).
array fft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array fft2(const array& a, const std::vector<int>& axes = {-2, -1}, StreamOrDevice s = {});
array ifft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array ifft2(const array& a, const std::vector<int>& axes = {-2, -1}, StreamOrDevice s = {});
array rfft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array rfft2(const array& a, const std::vector<int>& axes = {-2, -1}, StreamOrDevice s = {});
array irfft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array irfft2(const array& a, const std::vector<int>& axes = {-2, -1}, StreamOrDevice s = {});

// Any axes (default all); a real transform's real axis is the last of `axes`.
array fftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array fftn(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array fftn(const array& a, StreamOrDevice s = {});
array ifftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array ifftn(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array ifftn(const array& a, StreamOrDevice s = {});
array rfftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array rfftn(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array rfftn(const array& a, StreamOrDevice s = {});
array irfftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array irfftn(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array irfftn(const array& a, StreamOrDevice s = {});

// The zero frequency moved to the centre (roll by size / 2 along each axis,
// default all); ifftshift undoes it (roll by (size + 1) / 2).
array fftshift(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array fftshift(const array& a, StreamOrDevice s = {});
array ifftshift(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array ifftshift(const array& a, StreamOrDevice s = {});

}  // namespace uma::fft
