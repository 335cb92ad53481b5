#include "uma/core/array.h"

#include <cstring>
#include <limits>

#include "uma/core/gpu.h"
#include "uma/core/primitive.h"
#include "uma/core/scheduler.h"

namespace uma {

namespace detail {

Strides row_strides(const Shape& shape) {
  Strides s(shape.size(), 1);
  for (int i = int(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * std::max<int64_t>(shape[i + 1], 1);
  return s;
}

Data::~Data() {
  if (gpu) gpu_release(*this);
  if (deleter) {
    deleter(buffer);
  } else if (buffer.ptr || buffer.size == 0) {
    allocator::free(buffer);
  }
}

ArrayDesc::ArrayDesc(Shape s, Dtype t) : shape(std::move(s)), dtype(t) {
  size_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw std::invalid_argument("[array] negative dimension " + std::to_string(d) + " in shape");
    if (d != 0 && n > std::numeric_limits<size_t>::max() / size_t(d)) {
      throw std::invalid_argument("[array] shape has too many elements");
    }
    n *= size_t(d);
  }
  size = n;
  strides = row_strides(shape);
}

ArrayDesc::~ArrayDesc() {
  // Destroying the last reference to a graph would otherwise recurse once per
  // node; a chain of a million ops would overflow the stack.
  if (!node || node.use_count() != 1) return;
  std::vector<array> pending = std::move(node->inputs);
  node.reset();
  while (!pending.empty()) {
    array a = std::move(pending.back());
    pending.pop_back();
    auto& d = a.desc_;
    if (d.use_count() == 1 && d->node && d->node.use_count() == 1) {
      auto& ins = d->node->inputs;
      for (auto& in : ins) pending.push_back(std::move(in));
      ins.clear();
      d->node.reset();
    }
  }
}

}  // namespace detail

array::array(Shape shape, Dtype dtype, std::shared_ptr<Primitive> primitive, std::vector<array> inputs)
    : desc_(std::make_shared<detail::ArrayDesc>(std::move(shape), dtype)) {
  if (primitive) {
    auto node = std::make_shared<detail::Node>();
    node->primitive = std::move(primitive);
    node->inputs = std::move(inputs);
    node->outputs.push_back(desc_);
    node->shapes.push_back(desc_->shape);
    node->dtypes.push_back(dtype);
    desc_->node = std::move(node);
    desc_->status = Status::unscheduled;
  } else {
    desc_->status = Status::available;
  }
}

std::vector<array> array::make_arrays(std::vector<Shape> shapes, std::vector<Dtype> dtypes,
                                      std::shared_ptr<Primitive> primitive, std::vector<array> inputs) {
  auto node = std::make_shared<detail::Node>();
  node->primitive = std::move(primitive);
  node->inputs = std::move(inputs);
  std::vector<array> outs;
  for (size_t i = 0; i < shapes.size(); ++i) {
    auto d = std::make_shared<detail::ArrayDesc>(shapes[i], dtypes[i]);
    d->node = node;
    d->position = int(i);
    node->outputs.push_back(d);
    outs.push_back(array(d));
  }
  node->shapes = std::move(shapes);
  node->dtypes = std::move(dtypes);
  return outs;
}

array::array(void* data, Shape shape, Dtype dtype, std::function<void(void*)> deleter)
    : array(std::move(shape), dtype, nullptr, {}) {
  auto del = [deleter = std::move(deleter)](allocator::Buffer b) {
    if (deleter) deleter(b.ptr);
  };
  desc_->data = std::make_shared<detail::Data>(allocator::Buffer{data, nbytes()}, std::move(del), false);
  desc_->byte_offset = 0;
  desc_->data_size = size();
}

array::array(allocator::Buffer buffer, Shape shape, Dtype dtype) : array(std::move(shape), dtype, nullptr, {}) {
  set_data(buffer);
}

void array::init_from(const void* src, Dtype src_dtype, size_t n) {
  set_data(allocator::malloc(nbytes()));
  dispatch_all(dtype(), [&](auto to_tag) {
    using To = typename decltype(to_tag)::type;
    dispatch_all(src_dtype, [&](auto from_tag) {
      using From = typename decltype(from_tag)::type;
      const From* s = static_cast<const From*>(src);
      To* d = static_cast<To*>(raw_ptr());
      for (size_t i = 0; i < n; ++i) d[i] = convert<To>(s[i]);
    });
  });
}

const Shape& array::shape() const { return desc_->shape; }
int32_t array::shape(int dim) const {
  int n = int(ndim());
  int d = dim < 0 ? dim + n : dim;
  if (d < 0 || d >= n) {
    throw std::invalid_argument("[shape] dimension " + std::to_string(dim) + " is out of range for an array of " +
                                std::to_string(n) + " dimensions");
  }
  return desc_->shape[d];
}
const Strides& array::strides() const { return desc_->strides; }
int64_t array::strides(int dim) const {
  int n = int(ndim());
  int d = dim < 0 ? dim + n : dim;
  if (d < 0 || d >= n) throw std::invalid_argument("[strides] dimension " + std::to_string(dim) + " out of range");
  return desc_->strides[d];
}
size_t array::size() const { return desc_->size; }
Dtype array::dtype() const { return desc_->dtype; }

void array::eval() {
  if (status() == Status::available) return;
  uma::eval({*this});
}

void array::wait() {
  if (status() == Status::available) return;
  if (status() == Status::unscheduled) {
    eval();
    return;
  }
  desc_->event->wait();
}

array::Status array::status() const { return desc_->status.load(std::memory_order_acquire); }
void array::set_status(Status s) { desc_->status.store(s, std::memory_order_release); }
void array::set_event(std::shared_ptr<Event> e) { desc_->event = std::move(e); }
std::shared_ptr<Event> array::event() const { return desc_->event; }

bool array::has_primitive() const { return desc_->node != nullptr; }
Primitive& array::primitive() const { return *desc_->node->primitive; }
std::shared_ptr<Primitive> array::primitive_ptr() const {
  return desc_->node ? desc_->node->primitive : nullptr;
}
const std::vector<array>& array::inputs() const {
  static const std::vector<array> none;
  return desc_->node ? desc_->node->inputs : none;
}

std::vector<array> array::outputs() const {
  if (!desc_->node) return {*this};
  auto& node = *desc_->node;
  std::vector<array> outs;
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (auto d = node.outputs[i].lock()) {
      outs.push_back(array(d));
    } else {
      // Nobody holds this output: recreate it as scratch attached to the node.
      auto nd = std::make_shared<detail::ArrayDesc>(node.shapes[i], node.dtypes[i]);
      nd->node = desc_->node;
      nd->position = int(i);
      nd->status = desc_->status.load();
      nd->event = desc_->event;
      node.outputs[i] = nd;
      outs.push_back(array(nd));
    }
  }
  return outs;
}

std::vector<array> array::siblings() const {
  if (!desc_->node || desc_->node->outputs.size() == 1) return {};
  auto outs = outputs();
  outs.erase(outs.begin() + desc_->position);
  return outs;
}

void array::detach() { desc_->node.reset(); }

const Flags& array::flags() const { return desc_->flags; }
size_t array::data_size() const { return desc_->data_size; }
int64_t array::offset() const {
  if (!desc_->data) return 0;
  return desc_->byte_offset / int64_t(itemsize());
}
int64_t array::byte_offset() const { return desc_->byte_offset; }
void* array::raw_ptr() const {
  detail::Data* d = desc_->data.get();
  if (!d) return nullptr;
  if (!d->host_valid.load(std::memory_order_acquire)) detail::gpu_to_host(*d);
  return static_cast<char*>(d->buffer.ptr) + desc_->byte_offset;
}
const allocator::Buffer& array::buffer() const { return desc_->data->buffer; }

bool array::is_donatable() const {
  return desc_.use_count() == 1 && desc_->data && desc_->data.use_count() == 1 &&
         desc_->data->owned_by_allocator && !desc_->data->gpu && desc_->flags.row_contiguous;
}

void array::set_data(allocator::Buffer buffer) { set_data(std::make_shared<detail::Data>(buffer, nullptr, true)); }

void array::set_data(std::shared_ptr<detail::Data> data) {
  desc_->data = std::move(data);
  desc_->byte_offset = 0;
  desc_->data_size = size();
  desc_->strides = detail::row_strides(shape());
  desc_->flags = Flags{true, true, ndim() <= 1 || size() <= 1};
  if (!desc_->flags.col_contiguous) {
    int non_unit = 0;
    for (auto d : shape()) non_unit += d != 1;
    desc_->flags.col_contiguous = non_unit <= 1;
  }
}

void array::set_data(allocator::Buffer buffer, size_t data_size, Strides strides, Flags flags) {
  set_data(std::make_shared<detail::Data>(buffer, nullptr, true), data_size, std::move(strides), flags);
}

void array::set_data(std::shared_ptr<detail::Data> data, size_t data_size, Strides strides, Flags flags) {
  desc_->data = std::move(data);
  desc_->byte_offset = 0;
  desc_->data_size = data_size;
  desc_->strides = std::move(strides);
  desc_->flags = flags;
}

void array::copy_shared_buffer(const array& other, const Strides& strides, Flags flags, size_t data_size,
                               int64_t offset) {
  desc_->data = other.desc_->data;
  desc_->byte_offset = other.desc_->byte_offset + offset * int64_t(itemsize());
  desc_->data_size = data_size;
  desc_->strides = strides;
  desc_->flags = flags;
}

void array::copy_shared_buffer(const array& other) {
  copy_shared_buffer(other, other.strides(), other.flags(), other.data_size());
}

void array::move_shared_buffer(array other) {
  desc_->data = std::move(other.desc_->data);
  desc_->byte_offset = other.desc_->byte_offset;
  desc_->data_size = other.desc_->data_size;
  desc_->strides = other.desc_->strides;
  desc_->flags = other.desc_->flags;
}

}  // namespace uma
