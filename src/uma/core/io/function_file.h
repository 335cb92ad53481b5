// The file format of export_function / import_function (docs/export_format.md):
// a fixed header, the traced graphs as a compact varint-encoded description
// (primitives by class name with their parameters, core/primitives/serialize.h),
// then the constants' raw little-endian bytes, each 64-byte aligned.
//
// Files are untrusted: the reader checks every count, offset, length, index
// and shape against the bytes there are and the nodes before, the graph's
// checksum, and each node against what its primitive's op would build, and
// throws std::invalid_argument "[import_function] ..." instead of trusting
// any of them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "uma/core/primitives/serialize.h"
#include "uma/core/transforms/program.h"

namespace uma::io {

inline constexpr char kFunctionMagic[8] = {'U', 'M', 'A', 'F', 'U', 'N', 'C', '\0'};
inline constexpr uint32_t kFunctionVersion = 1;
inline constexpr size_t kFunctionHeaderBytes = 64;

// One traced signature of an exported function. The program's inputs are
// the positional arguments, then the keyword arguments in name order.
struct FunctionTrace {
  bool shapeless = false;
  std::vector<TypedShape> args;
  std::vector<std::string> kwarg_names;  // sorted, distinct
  std::vector<TypedShape> kwargs;
  detail::Program program;
};

struct FunctionFile {
  std::string metadata;
  std::vector<FunctionTrace> traces;
};

// The whole file as bytes; constants that are the same array in several
// traces are stored once. Throws std::invalid_argument naming the primitive
// that cannot be serialized.
std::string encode_function(const FunctionFile& f);
// Writes encode_function(f) to `path` atomically (temporary file, rename).
void save_function(const std::string& path, const FunctionFile& f);

// Reads a file written by save_function; constants point into a read-only
// memory map of it where their alignment allows.
FunctionFile load_function(const std::string& path);
// The same from bytes in memory (`name` appears in errors); the constants
// point into them, kept alive by `keep_alive`.
FunctionFile decode_function(const uint8_t* data, size_t n, const std::string& name,
                             std::shared_ptr<const void> keep_alive);

// The checksum stored in the header: FNV-1a 64 of the graph section.
uint64_t function_checksum(const uint8_t* data, size_t n);

}  // namespace uma::io
