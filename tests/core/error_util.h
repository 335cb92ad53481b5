// The error message of a call, for tests of argument checks.
#pragma once

#include <stdexcept>
#include <string>

namespace uma::test {

// The message of the std::invalid_argument f throws, or "(no error)".
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace uma::test
