// Architecture factories (one per models/<arch>.cpp).
#pragma once

#include "uma/lm/model.h"

namespace uma::lm {

std::shared_ptr<Model> make_llama(const json& config);
std::shared_ptr<Model> make_qwen2(const json& config);
std::shared_ptr<Model> make_qwen3(const json& config);
std::shared_ptr<Model> make_phi3(const json& config);
std::shared_ptr<Model> make_gemma2(const json& config);
std::shared_ptr<Model> make_gemma3(const json& config);

}  // namespace uma::lm
