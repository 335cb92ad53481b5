// uma::array: a lazily evaluated n-dimensional array, a value type with shared
// ownership. Ops record a primitive and its inputs; `eval` computes. Views
// (transpose, slices, broadcasts, reshapes that strides allow) share the
// buffer of their source and carry their own shape, strides and offset.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "uma/core/allocator.h"
#include "uma/core/dtype.h"

namespace uma {

using Shape = std::vector<int32_t>;
using Strides = std::vector<int64_t>;

class Primitive;
class array;
struct Event;

// Layout facts kernels branch on.
struct Flags {
  bool contiguous = true;      // the elements fill data_size() == size() slots densely
  bool row_contiguous = true;  // C order
  bool col_contiguous = true;  // Fortran order
};

namespace detail {
struct Data;
struct Node;
struct ArrayDesc;
// Row-major strides of a shape (in elements).
Strides row_strides(const Shape& shape);
}  // namespace detail

class array {
 public:
  enum class Status : uint8_t { unscheduled, scheduled, available };

  // A 0-d array holding `val`, stored as `dtype`.
  template <ArrayElement T>
  explicit array(T val, Dtype dtype = dtype_of<T>);
  // A 1-d array.
  template <ArrayElement T>
  array(std::initializer_list<T> data);
  template <ArrayElement T>
  array(std::initializer_list<T> data, Shape shape);
  // Copies `data` (size must equal the product of `shape`).
  template <typename T>
  array(const std::vector<T>& data, Shape shape);
  template <typename T>
  array(const T* data, Shape shape, Dtype dtype = dtype_of<T>);
  // Wraps external row-major memory without copying; `deleter(data)` runs when
  // the last array using it is gone.
  array(void* data, Shape shape, Dtype dtype, std::function<void(void*)> deleter);
  // Takes ownership of an allocator buffer holding row-major data.
  array(allocator::Buffer buffer, Shape shape, Dtype dtype);

  // A lazy node: computed by `primitive` from `inputs` when evaluated.
  array(Shape shape, Dtype dtype, std::shared_ptr<Primitive> primitive, std::vector<array> inputs);
  // The outputs of a multi-output primitive.
  static std::vector<array> make_arrays(std::vector<Shape> shapes, std::vector<Dtype> dtypes,
                                        std::shared_ptr<Primitive> primitive, std::vector<array> inputs);

  array(const array&) = default;
  array(array&&) noexcept = default;
  array& operator=(const array&) = default;
  array& operator=(array&&) noexcept = default;
  // Assigning a scalar keeps the array's dtype (MLX's weak scalar rule).
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  array& operator=(T) = delete;

  // --- shape and type
  const Shape& shape() const;
  // Negative dims count from the end.
  int32_t shape(int dim) const;
  const Strides& strides() const;
  int64_t strides(int dim) const;
  size_t ndim() const { return shape().size(); }
  size_t size() const;
  size_t nbytes() const { return size() * itemsize(); }
  size_t itemsize() const { return size_of(dtype()); }
  Dtype dtype() const;

  // --- evaluation and data
  void eval();
  // The value of a one-element array, converted to T. Evaluates.
  template <typename T>
  T item();
  // Pointer to the first element (strides apply). Evaluates. T must match dtype.
  template <typename T>
  T* data();
  template <typename T>
  const T* data() const;
  // Elements in row-major order, converted to T. Evaluates.
  template <typename T>
  std::vector<T> to_vector();
  Status status() const;
  bool is_available() const { return status() == Status::available; }
  // Blocks until a scheduled array is computed (rethrows a kernel error).
  void wait();

  // --- graph (for primitives, transforms and the scheduler)
  bool has_primitive() const;
  Primitive& primitive() const;
  std::shared_ptr<Primitive> primitive_ptr() const;
  const std::vector<array>& inputs() const;
  // The other outputs of this array's primitive (empty for one output).
  std::vector<array> siblings() const;
  // All outputs of this array's primitive, this one included, in order.
  std::vector<array> outputs() const;
  // Drops the primitive and inputs (after evaluation).
  void detach();
  // Stable identity of the underlying array (not of the data).
  uintptr_t id() const { return reinterpret_cast<uintptr_t>(desc_.get()); }
  bool is_same(const array& o) const { return desc_ == o.desc_; }

  // --- data layout (for kernels)
  const Flags& flags() const;
  // Number of elements spanned in the buffer (== size() when contiguous).
  size_t data_size() const;
  // Element offset of this view inside its buffer.
  int64_t offset() const;
  // Host address of the first element; no evaluation. Data computed on the
  // GPU is copied to the host first (the one place host and device meet).
  void* raw_ptr() const;
  // Byte offset of this view inside its data (for backends).
  int64_t byte_offset() const;
  const allocator::Buffer& buffer() const;
  // True when the buffer can be taken over: nobody else holds this array or
  // its data, and the data came from the allocator (not mmap/external).
  bool is_donatable() const;

  // A fresh row-major buffer for this (output) array.
  void set_data(allocator::Buffer buffer);
  void set_data(allocator::Buffer buffer, size_t data_size, Strides strides, Flags flags);
  // Fresh row-major data made by a backend (device bytes, see detail::Data).
  void set_data(std::shared_ptr<detail::Data> data);
  void set_data(std::shared_ptr<detail::Data> data, size_t data_size, Strides strides, Flags flags);
  // Shares `other`'s buffer with a new layout (views); offset in elements of
  // this array's dtype, relative to other's offset.
  void copy_shared_buffer(const array& other, const Strides& strides, Flags flags, size_t data_size,
                          int64_t offset = 0);
  void copy_shared_buffer(const array& other);
  void move_shared_buffer(array other);
  void set_status(Status s);
  void set_event(std::shared_ptr<Event> e);
  std::shared_ptr<Event> event() const;
  std::shared_ptr<detail::ArrayDesc> desc() const { return desc_; }
  static array from_desc(std::shared_ptr<detail::ArrayDesc> d) { return array(std::move(d)); }

 private:
  friend struct detail::ArrayDesc;
  explicit array(std::shared_ptr<detail::ArrayDesc> d) : desc_(std::move(d)) {}
  void init_from(const void* src, Dtype src_dtype, size_t n);
  template <typename T>
  void init(const T* src);

  std::shared_ptr<detail::ArrayDesc> desc_;
};

namespace detail {

// Copies a's elements (any layout) in row-major order to dst as `dst_dtype`.
void read_elements(const array& a, void* dst, Dtype dst_dtype);

// The bytes an array (or several views) refer to: host memory, and in a
// build with a GPU backend possibly a device copy. Arrays are values, so the
// bytes are written once (by the kernel that makes them) and the copies only
// go stale when a buffer is donated, which a mirrored buffer never is.
struct Data {
  allocator::Buffer buffer;  // host bytes; ptr is null while only the GPU holds them
  std::function<void(allocator::Buffer)> deleter;  // empty: return to the allocator
  bool owned_by_allocator = true;
  // The GPU copy (backend/cuda): device bytes, whether the host bytes are
  // current, and the uma stream whose device work last wrote the bytes.
  void* gpu = nullptr;
  std::atomic<bool> host_valid{true};
  int gpu_stream = -1;
  std::mutex mirror_mutex;
  Data(allocator::Buffer b, std::function<void(allocator::Buffer)> d, bool owned)
      : buffer(b), deleter(std::move(d)), owned_by_allocator(owned) {}
  Data(const Data&) = delete;
  Data& operator=(const Data&) = delete;
  ~Data();
};

// One application of a primitive; shared by all its outputs, which it refers
// to weakly (outputs nobody holds are recreated as scratch during eval).
struct Node {
  std::shared_ptr<Primitive> primitive;
  std::vector<array> inputs;
  std::vector<std::weak_ptr<ArrayDesc>> outputs;
  std::vector<Shape> shapes;
  std::vector<Dtype> dtypes;
};

struct ArrayDesc {
  Shape shape;
  Strides strides;
  size_t size = 0;
  Dtype dtype = float32;
  std::atomic<array::Status> status{array::Status::unscheduled};
  std::shared_ptr<Event> event;
  std::shared_ptr<Node> node;
  int position = 0;  // which output of node
  std::shared_ptr<Data> data;
  int64_t byte_offset = 0;  // of this view inside data
  size_t data_size = 0;
  Flags flags;

  ArrayDesc(Shape s, Dtype t);
  // Releases a long chain of inputs iteratively, not recursively.
  ~ArrayDesc();
};

}  // namespace detail

// --- evaluation (transforms/eval.cpp)
// Computes the given arrays (and everything they need); blocks.
void eval(std::vector<array> outputs);
template <typename... Arrays>
void eval(Arrays&&... outputs) {
  eval(std::vector<array>{std::forward<Arrays>(outputs)...});
}
// Schedules the computation and returns at once; reading the data (or eval)
// waits for it.
void async_eval(std::vector<array> outputs);
template <typename... Arrays>
void async_eval(Arrays&&... outputs) {
  async_eval(std::vector<array>{std::forward<Arrays>(outputs)...});
}

std::ostream& operator<<(std::ostream& os, const array& a);

// ---------------------------------------------------------------- templates

template <ArrayElement T>
array::array(T val, Dtype dtype) : array(Shape{}, dtype, nullptr, {}) {
  init_from(&val, dtype_of<T>, 1);
}

template <ArrayElement T>
array::array(std::initializer_list<T> data)
    : array(Shape{static_cast<int32_t>(data.size())}, dtype_of<T>, nullptr, {}) {
  init_from(data.begin(), dtype_of<T>, data.size());
}

template <ArrayElement T>
array::array(std::initializer_list<T> data, Shape shape) : array(std::move(shape), dtype_of<T>, nullptr, {}) {
  if (data.size() != size()) {
    throw std::invalid_argument("[array] " + std::to_string(data.size()) + " values do not fill shape of size " +
                                std::to_string(size()));
  }
  init_from(data.begin(), dtype_of<T>, data.size());
}

template <typename T>
array::array(const std::vector<T>& data, Shape shape) : array(std::move(shape), dtype_of<T>, nullptr, {}) {
  if (data.size() != size()) {
    throw std::invalid_argument("[array] " + std::to_string(data.size()) + " values do not fill shape of size " +
                                std::to_string(size()));
  }
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<uint8_t> tmp(data.begin(), data.end());
    init_from(tmp.data(), bool_, tmp.size());
  } else {
    init_from(data.data(), dtype_of<T>, data.size());
  }
}

template <typename T>
array::array(const T* data, Shape shape, Dtype dtype) : array(std::move(shape), dtype, nullptr, {}) {
  init_from(data, dtype_of<T>, size());
}

template <typename T>
T array::item() {
  if (size() != 1) {
    throw std::invalid_argument("[item] only one-element arrays have an item; this one has shape of size " +
                                std::to_string(size()));
  }
  eval();
  return dispatch_all(dtype(), [&](auto tag) -> T {
    using S = typename decltype(tag)::type;
    return convert<T>(*static_cast<const S*>(raw_ptr()));
  });
}

template <typename T>
T* array::data() {
  if (dtype_of<T> != dtype()) {
    throw std::invalid_argument(std::string("[data] requested ") + dtype_name(dtype_of<T>) + " from an array of " +
                                dtype_name(dtype()));
  }
  if (!is_available()) eval();
  return static_cast<T*>(raw_ptr());
}

template <typename T>
std::vector<T> array::to_vector() {
  eval();
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<uint8_t> tmp(size());
    detail::read_elements(*this, tmp.data(), bool_);
    return std::vector<bool>(tmp.begin(), tmp.end());
  } else {
    std::vector<T> out(size());
    detail::read_elements(*this, out.data(), dtype_of<T>);
    return out;
  }
}

template <typename T>
const T* array::data() const {
  return const_cast<array*>(this)->data<T>();
}

}  // namespace uma
