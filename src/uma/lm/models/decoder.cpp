#include "uma/lm/models/decoder.h"

#include <cmath>

#include "uma/core/ops.h"
#include "uma/lm/attention.h"
#include "uma/lm/kv_cache_batch.h"
#include "uma/lm/models/config_reader.h"

namespace uma::lm {

namespace {

std::shared_ptr<nn::Linear> linear(int in, int out, bool bias) { return std::make_shared<nn::Linear>(in, out, bias); }

std::shared_ptr<nn::RMSNorm> norm(const DecoderOptions& o, int dims) {
  return std::make_shared<nn::RMSNorm>(dims, o.norm_eps, o.norm_offset);
}

// (B, L, H*D) -> (B, H, L, D)
array split_heads(const array& x, int heads, int head_dim) {
  return transpose(reshape(x, {x.shape(0), x.shape(1), heads, head_dim}), {0, 2, 1, 3});
}

}  // namespace

DecoderAttention::DecoderAttention(const DecoderOptions& o, int layer)
    : o_(o), rope_(o.layer_rope[layer]), window_(o.layer_window[layer]) {
  int q_out = o.num_heads * o.head_dim, kv_out = o.num_kv_heads * o.head_dim;
  if (o.fused_qkv) {
    qkv_proj = linear(o.hidden_size, q_out + 2 * kv_out, o.qkv_bias);
    register_module("qkv_proj", qkv_proj);
  } else {
    q_proj = linear(o.hidden_size, q_out, o.qkv_bias);
    k_proj = linear(o.hidden_size, kv_out, o.qkv_bias);
    v_proj = linear(o.hidden_size, kv_out, o.qkv_bias);
    register_module("q_proj", q_proj);
    register_module("k_proj", k_proj);
    register_module("v_proj", v_proj);
  }
  o_proj = linear(q_out, o.hidden_size, o.o_bias);
  register_module("o_proj", o_proj);
  if (o.qk_norm) {
    q_norm = norm(o, o.head_dim);
    k_norm = norm(o, o.head_dim);
    register_module("q_norm", q_norm);
    register_module("k_norm", k_norm);
  }
  scale_ = o.attn_scale > 0 ? o.attn_scale : 1.0f / std::sqrt(float(o.head_dim));
}

array DecoderAttention::operator()(const array& x, const AttentionMask& mask, KVCache* cache) {
  int B = x.shape(0), L = x.shape(1);
  array q{0.0f}, k{0.0f}, v{0.0f};
  if (o_.fused_qkv) {
    array qkv = (*qkv_proj)(x);
    int qd = o_.num_heads * o_.head_dim, kd = o_.num_kv_heads * o_.head_dim;
    auto parts = split(qkv, std::vector<int>{qd, qd + kd}, -1);
    q = parts[0];
    k = parts[1];
    v = parts[2];
  } else {
    q = (*q_proj)(x);
    k = (*k_proj)(x);
    v = (*v_proj)(x);
  }
  q = split_heads(q, o_.num_heads, o_.head_dim);
  k = split_heads(k, o_.num_kv_heads, o_.head_dim);
  v = split_heads(v, o_.num_kv_heads, o_.head_dim);
  if (q_norm) {
    q = (*q_norm)(q);
    k = (*k_norm)(k);
  }
  array out{0.0f};
  if (auto* rows = dynamic_cast<BatchKVCache*>(cache)) {
    // A batch of sequences of their own lengths: the projections above ran
    // batched; positions, mask and cache are each row's own. Row b is
    // q[b] (B, T layout) or the next lengths[b] positions of q[0] (packed).
    const PackedRows* packed = rows->packed();
    std::vector<array> outs;
    for (int b = 0, start = 0; b < rows->size(); ++b) {
      KVCache* c = rows->row(b);
      const int n = packed ? packed->lengths[size_t(b)] : L;
      auto row = [&](const array& a) {
        return packed ? slice(a, {0, 0, start, 0}, {1, a.shape(1), start + n, a.shape(3)})
                      : slice(a, {b, 0, 0, 0}, {b + 1, a.shape(1), a.shape(2), a.shape(3)});
      };
      int offset = c->offset();
      AttentionMask m = c->make_mask(n, window_);
      outs.push_back(cached_attention(rope_(row(q), offset), rope_(row(k), offset), row(v), c, scale_, m,
                                      o_.attn_logit_softcap));
      start += n;
    }
    out = outs.size() == 1 ? outs[0] : concatenate(outs, packed ? 2 : 0);
  } else {
    int offset = cache ? cache->offset() : 0;
    q = rope_(q, offset);
    k = rope_(k, offset);
    out = cached_attention(q, k, v, cache, scale_, mask, o_.attn_logit_softcap);
  }
  out = reshape(transpose(out, {0, 2, 1, 3}), {B, L, o_.num_heads * o_.head_dim});
  return (*o_proj)(out);
}

DecoderMlp::DecoderMlp(const DecoderOptions& o) : o_(o) {
  if (o.fused_gate_up) {
    gate_up_proj = linear(o.hidden_size, 2 * o.intermediate_size, o.mlp_bias);
    register_module("gate_up_proj", gate_up_proj);
  } else {
    gate_proj = linear(o.hidden_size, o.intermediate_size, o.mlp_bias);
    register_module("gate_proj", gate_proj);
  }
  // Registered in mlx-lm's declaration order (gate, down, up): parameters are
  // visited, and converted checkpoints sharded, in this order.
  down_proj = linear(o.intermediate_size, o.hidden_size, o.mlp_bias);
  register_module("down_proj", down_proj);
  if (!o.fused_gate_up) {
    up_proj = linear(o.hidden_size, o.intermediate_size, o.mlp_bias);
    register_module("up_proj", up_proj);
  }
}

array DecoderMlp::operator()(const array& x) {
  array gate{0.0f}, up{0.0f};
  if (o_.fused_gate_up) {
    auto parts = split((*gate_up_proj)(x), 2, -1);
    gate = parts[0];
    up = parts[1];
  } else {
    gate = (*gate_proj)(x);
    up = (*up_proj)(x);
  }
  return (*down_proj)(multiply(nn::activation(o_.hidden_act, gate), up));
}

DecoderLayer::DecoderLayer(const DecoderOptions& o, int layer) : o_(o) {
  self_attn = std::make_shared<DecoderAttention>(o, layer);
  mlp = std::make_shared<DecoderMlp>(o);
  input_layernorm = norm(o, o.hidden_size);
  post_attention_layernorm = norm(o, o.hidden_size);
  register_module("self_attn", self_attn);
  register_module("mlp", mlp);
  register_module("input_layernorm", input_layernorm);
  if (!o.post_attention_norm_last) register_module("post_attention_layernorm", post_attention_layernorm);
  if (o.sandwich_norms) {
    pre_feedforward_layernorm = norm(o, o.hidden_size);
    post_feedforward_layernorm = norm(o, o.hidden_size);
    register_module("pre_feedforward_layernorm", pre_feedforward_layernorm);
    register_module("post_feedforward_layernorm", post_feedforward_layernorm);
  }
  if (o.post_attention_norm_last) register_module("post_attention_layernorm", post_attention_layernorm);
}

array DecoderLayer::operator()(const array& x, const AttentionMask& mask, KVCache* cache) {
  array r = (*self_attn)((*input_layernorm)(x), mask, cache);
  if (o_.sandwich_norms) {
    array h = add(x, (*post_attention_layernorm)(r));
    array m = (*post_feedforward_layernorm)((*mlp)((*pre_feedforward_layernorm)(h)));
    return add(h, m);
  }
  array h = add(x, r);
  return add(h, (*mlp)((*post_attention_layernorm)(h)));
}

DecoderBody::DecoderBody(const DecoderOptions& o) : o_(o) {
  embed_tokens = std::make_shared<nn::Embedding>(o.vocab_size, o.hidden_size);
  register_module("embed_tokens", embed_tokens);
  layers.resize(o.num_layers);
  for (int i = 0; i < o.num_layers; ++i) {
    layers[i] = std::make_shared<DecoderLayer>(o, i);
    register_module("layers." + std::to_string(i), layers[i]);
  }
  this->norm = lm::norm(o, o.hidden_size);
  register_module("norm", this->norm);
}

array DecoderBody::operator()(const array& inputs, CacheList* cache) {
  array h = (*embed_tokens)(inputs);
  if (o_.scale_embeddings) {
    // transformers rounds sqrt(hidden) to the activation dtype first.
    h = multiply(h, astype(array(std::sqrt(float(o_.hidden_size))), h.dtype()));
  }
  int L = inputs.shape(1);
  for (int i = 0; i < o_.num_layers; ++i) {
    KVCache* c = cache ? (*cache)[i].get() : nullptr;
    AttentionMask mask;
    const auto& window = o_.layer_window[i];
    if (c) {
      mask = c->make_mask(L, window);
    } else if (L > 1) {
      mask = window && L > *window ? AttentionMask{"", create_causal_mask(L, 0, window)} : AttentionMask::causal();
    }
    h = (*layers[i])(h, mask, c);
  }
  return (*norm)(h);
}

DecoderModel::DecoderModel(DecoderOptions o, const json& config) : o_(std::move(o)) {
  config_ = config;
  model_type_ = config.value("model_type", std::string());
  model = std::make_shared<DecoderBody>(o_);
  register_module("model", model);
  if (!o_.tie_word_embeddings) {
    lm_head = linear(o_.hidden_size, o_.vocab_size, false);
    register_module("lm_head", lm_head);
  }
}

array DecoderModel::hidden(const array& inputs, CacheList* cache) {
  if (inputs.ndim() != 2) {
    throw std::invalid_argument("[model] inputs must be (batch, tokens), got " + std::to_string(inputs.ndim()) + "-d");
  }
  if (cache && int(cache->size()) != o_.num_layers) {
    throw std::invalid_argument("[model] the cache has " + std::to_string(cache->size()) + " layers, the model " +
                                std::to_string(o_.num_layers));
  }
  return (*model)(inputs, cache);
}

array DecoderModel::head(const array& h) {
  array logits = lm_head ? (*lm_head)(h) : model->embed_tokens->as_linear(h);
  if (o_.final_logit_softcap) logits = softcap(logits, *o_.final_logit_softcap);
  return logits;
}

array DecoderModel::operator()(const array& inputs, CacheList* cache) { return head(hidden(inputs, cache)); }

std::string DecoderModel::first_nonfinite(const array& inputs) {
  auto bad = [](const array& a) { return !all(isfinite(a)).item<bool>(); };
  DecoderBody& b = *model;
  array h = (*b.embed_tokens)(inputs);
  if (o_.scale_embeddings)
    h = multiply(h, astype(array(std::sqrt(float(o_.hidden_size))), h.dtype()));
  if (bad(h)) return "model.embed_tokens";
  int L = inputs.shape(1);
  for (int i = 0; i < o_.num_layers; ++i) {
    AttentionMask mask;
    const auto& window = o_.layer_window[i];
    if (L > 1) {
      mask = window && L > *window ? AttentionMask{"", create_causal_mask(L, 0, window)}
                                   : AttentionMask::causal();
    }
    h = (*b.layers[i])(h, mask, nullptr);
    if (bad(h)) return "model.layers." + std::to_string(i);
  }
  h = (*b.norm)(h);
  if (bad(h)) return "model.norm";
  if (bad(head(h))) return lm_head ? "lm_head" : "model.embed_tokens (as the tied head)";
  return "";
}

array DecoderModel::last_logits(const array& inputs, CacheList* cache) {
  return head(last_positions(hidden(inputs, cache), cache));
}

CacheList DecoderModel::make_cache(std::optional<int> max_kv_size) const {
  CacheList caches;
  for (int i = 0; i < o_.num_layers; ++i) {
    const auto& w = o_.layer_window[i];
    if (w && (!max_kv_size || *w <= *max_kv_size)) {
      caches.push_back(std::make_unique<RotatingKVCache>(*w, 0));
    } else if (max_kv_size) {
      caches.push_back(std::make_unique<RotatingKVCache>(*max_kv_size, 4));
    } else {
      caches.push_back(std::make_unique<StandardKVCache>());
    }
  }
  return caches;
}

std::map<std::string, array> DecoderModel::sanitize(std::map<std::string, array> weights) const {
  for (auto it = weights.begin(); it != weights.end();) {
    // Rotary tables some checkpoints carry are recomputed, not loaded.
    if (it->first.find("rotary_emb.inv_freq") != std::string::npos) {
      it = weights.erase(it);
    } else {
      ++it;
    }
  }
  if (o_.tie_word_embeddings) weights.erase("lm_head.weight");
  return weights;
}

DecoderOptions decoder_options_from_config(const json& c, const std::string& where) {
  using L = ConfigLimits;
  ConfigReader r(c, where);
  DecoderOptions o;
  o.vocab_size = int(r.integer("vocab_size", 1, L::kMaxVocab));
  o.hidden_size = int(r.integer("hidden_size", 1, L::kMaxHidden));
  o.intermediate_size = int(r.integer("intermediate_size", 1, L::kMaxIntermediate));
  o.num_layers = int(r.integer("num_hidden_layers", 1, L::kMaxLayers));
  o.num_heads = int(r.integer("num_attention_heads", 1, L::kMaxHeads));
  o.num_kv_heads = int(r.integer("num_key_value_heads", 1, L::kMaxHeads, o.num_heads));
  if (r.has("head_dim")) {
    o.head_dim = int(r.integer("head_dim", 1, L::kMaxHeadDim));
  } else {
    if (o.hidden_size % o.num_heads) {
      r.fail("num_attention_heads",
             "(" + std::to_string(o.num_heads) + ") must divide hidden_size (" +
                 std::to_string(o.hidden_size) + ") when head_dim is absent");
    }
    o.head_dim = o.hidden_size / o.num_heads;
  }
  if (o.num_heads % o.num_kv_heads) {
    r.fail("num_key_value_heads", "(" + std::to_string(o.num_kv_heads) +
                                      ") must divide num_attention_heads (" +
                                      std::to_string(o.num_heads) + ")");
  }
  // The widest projection (heads x head_dim) must fit an int32 dimension.
  if (int64_t(o.num_heads) * o.head_dim > L::kMaxHidden * 4) {
    r.fail("head_dim", "times num_attention_heads is " +
                           std::to_string(int64_t(o.num_heads) * o.head_dim) + ", more than " +
                           std::to_string(L::kMaxHidden * 4));
  }
  o.norm_eps = float(r.number("rms_norm_eps", 1e-30, 1.0, 1e-5));
  if (!(o.norm_eps > 0)) r.fail("rms_norm_eps", "must be > 0");
  o.hidden_act = r.string("hidden_act", "silu");
  o.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  o.max_position_embeddings = int(r.integer("max_position_embeddings", 1, L::kMaxPositions, 0));
  o.layer_window.assign(o.num_layers, std::nullopt);
  o.layer_rope.assign(o.num_layers, rope_spec_from_config(c, o.head_dim, "", where));
  return o;
}

std::optional<int> sliding_window_from_config(const json& c, const std::string& where) {
  auto w = ConfigReader(c, where).opt_integer("sliding_window", 1, ConfigLimits::kMaxPositions);
  return w ? std::optional<int>(int(*w)) : std::nullopt;
}

}  // namespace uma::lm
