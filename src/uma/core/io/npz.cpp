// .npz: a zip archive of .npy members, as numpy.savez / savez_compressed.
#include <stdexcept>

#include "uma/core/io/array_bytes.h"
#include "uma/core/io/file.h"
#include "uma/core/io/npy.h"
#include "uma/core/io/zip.h"

namespace uma {

std::map<std::string, array> load_npz(const std::string& path) {
  auto file = io::MappedFile::open(path, "load_npz");
  auto members = io::zip_members(file->data(), file->size(), path, "load_npz");
  std::map<std::string, array> out;
  for (auto& m : members) {
    if (m.name.size() < 4 || m.name.compare(m.name.size() - 4, 4, ".npy") != 0) continue;
    std::string what = "[load_npz] " + path + ": member '" + m.name + "'";
    array a = [&] {
      if (m.method == 0) {
        // Stored: verify the CRC, then read in place when the data is aligned.
        io::zip_check_stored(file->data(), m, path, "load_npz");
        return io::npy_from_bytes(file->data() + m.data_offset, m.size, what, file);
      }
      auto buf = io::zip_extract(file->data(), m, path, "load_npz");
      return io::npy_from_bytes(static_cast<const uint8_t*>(buf->ptr), m.size, what, buf);
    }();
    out.insert_or_assign(m.name.substr(0, m.name.size() - 4), std::move(a));
  }
  return out;
}

void save_npz(const std::string& path, const std::map<std::string, array>& arrays, bool compressed) {
  const char* op = compressed ? "savez_compressed" : "savez";
  io::AtomicWriter w(path, op);
  io::ZipWriter zip(w, path, op);
  for (auto& [name, a] : arrays) {
    array x = io::row_major(a);
    std::string header = io::npy_header(x.shape(), x.dtype());
    zip.begin(name + ".npy", compressed);
    zip.write(header.data(), header.size());
    if (x.nbytes()) zip.write(x.raw_ptr(), x.nbytes());
    zip.end();
  }
  zip.finish();
  w.commit();
}

}  // namespace uma
