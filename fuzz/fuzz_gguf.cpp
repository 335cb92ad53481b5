// GGUF from untrusted bytes: header, metadata of every type, tensor infos,
// then the embedded vocabulary as load_tokenizer reads it (tokens, merges,
// scores, special ids, chat templates) and a few encode/decode round trips.
#include <stdexcept>

#include "fuzz_util.h"
#include "uma/core/io/gguf.h"
#include "uma/text/tokenizer/load.h"

namespace {

namespace gguf = uma::io::gguf;

// Every accessor either returns or throws std::invalid_argument.
void read_value(const gguf::Value& v) {
  auto attempt = [](auto&& f) {
    try {
      f();
    } catch (const std::invalid_argument&) {
    }
  };
  attempt([&] { (void)v.as_string(); });
  attempt([&] { (void)v.as_uint(); });
  attempt([&] { (void)v.as_int(); });
  attempt([&] { (void)v.as_float(); });
  attempt([&] { (void)v.as_bool(); });
  attempt([&] { (void)v.as_strings(); });
  attempt([&] { (void)v.as_ints(); });
  attempt([&] { (void)v.as_floats(); });
}

void use_tokenizer(const uma::text::tokenizer::Tokenizer& tok, const uint8_t* data, size_t size) {
  const std::string tail(
      uma::fuzz::as_text(data + (size > 64 ? size - 64 : 0), size > 64 ? 64 : size));
  for (const std::string& text :
       {std::string("Hello world! 123 <s></s>\n\t  caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd"), tail}) {
    auto ids = tok.encode(text, true);
    for (int32_t id : ids) uma::fuzz::require(id >= 0 && id < tok.id_limit());
    (void)tok.decode(ids, false);
    (void)tok.decode(ids, true);
  }
  // Ids near and past the ends of the vocabulary.
  const int32_t n = tok.id_limit();
  (void)tok.decode({-1, 0, n - 1, n, n + 1});
  for (int32_t id : {-1, 0, n - 1, n}) (void)tok.id_to_token(id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static uma::fuzz::MemFile file;
  const std::string& path = file.write(data, size);
  try {
    auto f = gguf::File::open(path);
    for (const auto& v : f.metadata()) read_value(v);
    const auto bytes = f.bytes();
    for (const auto& t : f.tensors()) {
      auto d = f.tensor_data(t);
      uma::fuzz::require(d.data() >= bytes.data() && d.size() <= bytes.size() &&
                         size_t(d.data() - bytes.data()) <= bytes.size() - d.size());
      uma::fuzz::require(f.tensor(t.name) == &t);
    }
  } catch (const std::invalid_argument&) {
    return 0;
  }
  try {
    auto loaded = uma::text::tokenizer::load_tokenizer(path);
    use_tokenizer(*loaded.tokenizer, data, size);
    (void)loaded.chat_template();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
