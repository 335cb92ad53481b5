// nn::Module's API as mlx.nn.Module: parameter trees and names, children and
// leaf modules, freeze/unfreeze (by key, recursive, strict), train/eval,
// update/apply, and weights saved and loaded (.safetensors, .npz) equal.
#include <gtest/gtest.h>

#include <filesystem>

#include "uma/nn/layers.h"
#include "uma/uma.h"

using namespace uma;

namespace {

struct Block : nn::Module {
  std::shared_ptr<nn::Linear> up, down;
  std::shared_ptr<nn::LayerNorm> norm;
  Block()
      : up(std::make_shared<nn::Linear>(4, 8)),
        down(std::make_shared<nn::Linear>(8, 4, false)),
        norm(std::make_shared<nn::LayerNorm>(4)) {
    register_module("up", up);
    register_module("down", down);
    register_module("norm", norm);
  }
};

struct Net : nn::Module {
  array scale = array(1.0f);
  std::vector<std::shared_ptr<Block>> layers;
  std::shared_ptr<nn::Linear> head;
  Net() : head(std::make_shared<nn::Linear>(4, 2)) {
    for (int i = 0; i < 2; ++i) layers.push_back(std::make_shared<Block>());
    register_parameter("scale", scale);
    register_modules("layers", layers);
    register_module("head", head);
  }
};

std::vector<std::string> keys_of(const std::map<std::string, array>& m) {
  std::vector<std::string> out;
  for (auto& [k, _] : m) out.push_back(k);
  return out;
}

std::vector<std::string> paths_of(const std::vector<std::pair<std::string, nn::Module*>>& v) {
  std::vector<std::string> out;
  for (auto& [k, _] : v) out.push_back(k);
  return out;
}

const std::vector<std::string> kAll = {
    "head.bias",         "head.weight",         "layers.0.down.weight", "layers.0.norm.bias",
    "layers.0.norm.weight", "layers.0.up.bias",  "layers.0.up.weight",   "layers.1.down.weight",
    "layers.1.norm.bias", "layers.1.norm.weight", "layers.1.up.bias",    "layers.1.up.weight",
    "scale"};

TEST(Module, ParameterNamesAndChildren) {
  Net net;
  EXPECT_EQ(keys_of(net.parameters()), kAll);
  EXPECT_EQ(keys_of(net.trainable_parameters()), kAll);
  EXPECT_EQ(paths_of(net.children()), (std::vector<std::string>{"layers.0", "layers.1", "head"}));
  EXPECT_EQ(paths_of(net.leaf_modules()),
            (std::vector<std::string>{"layers.0.up", "layers.0.down", "layers.0.norm", "layers.1.up", "layers.1.down",
                                      "layers.1.norm", "head"}));
  auto named = net.named_modules();
  ASSERT_EQ(named.size(), 10u);
  EXPECT_EQ(named[0].first, "");
  EXPECT_EQ(named[0].second, &net);
  EXPECT_EQ(named[1].first, "layers.0");
  EXPECT_EQ(named[1].second, net.layers[0].get());
}

TEST(Module, FreezeAllAndUnfreezeByKey) {
  Net net;
  net.freeze();
  EXPECT_TRUE(net.trainable_parameters().empty());
  EXPECT_EQ(net.parameters().size(), kAll.size());  // frozen parameters are still parameters
  net.unfreeze({"bias"});
  EXPECT_EQ(keys_of(net.trainable_parameters()),
            (std::vector<std::string>{"head.bias", "layers.0.norm.bias", "layers.0.up.bias", "layers.1.norm.bias",
                                      "layers.1.up.bias"}));
  net.unfreeze();
  EXPECT_EQ(keys_of(net.trainable_parameters()), kAll);
}

TEST(Module, FreezeByKeyRecursiveOrNot) {
  Net net;
  net.freeze({"weight"});
  EXPECT_EQ(keys_of(net.trainable_parameters()),
            (std::vector<std::string>{"head.bias", "layers.0.norm.bias", "layers.0.up.bias", "layers.1.norm.bias",
                                      "layers.1.up.bias", "scale"}));
  net.unfreeze();
  // Not recursive: only this module's own parameter.
  net.freeze({}, false);
  auto t = keys_of(net.trainable_parameters());
  EXPECT_EQ(t.size(), kAll.size() - 1);
  EXPECT_EQ(std::count(t.begin(), t.end(), "scale"), 0);
  net.unfreeze();
  // A child's name freezes its subtree; a list's name freezes every element.
  net.freeze({"head"}, false);
  EXPECT_EQ(net.trainable_parameters().count("head.weight"), 0u);
  EXPECT_EQ(net.trainable_parameters().size(), kAll.size() - 2);
  net.unfreeze();
  net.freeze({"layers"}, false);
  EXPECT_EQ(keys_of(net.trainable_parameters()), (std::vector<std::string>{"head.bias", "head.weight", "scale"}));
  net.unfreeze();
  // A child module frozen on its own.
  net.layers[1]->freeze();
  EXPECT_EQ(net.trainable_parameters().size(), kAll.size() - 5);
  net.layers[1]->unfreeze({"bias"}, false);  // Block has no own bias: nothing changes
  EXPECT_EQ(net.trainable_parameters().size(), kAll.size() - 5);
}

TEST(Module, StrictFreezeChecksKeys) {
  Net net;
  EXPECT_NO_THROW(net.freeze({"bias"}, true, true));  // found in a descendant
  try {
    net.freeze({"bogus"}, true, true);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[freeze]"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("bogus"), std::string::npos);
  }
  EXPECT_THROW(net.freeze({"bias"}, false, true), std::invalid_argument);  // not Net's own
  EXPECT_THROW(net.unfreeze({"nope"}, true, true), std::invalid_argument);
  EXPECT_NO_THROW(net.freeze({"bogus"}));  // not strict: ignored
}

TEST(Module, TrainEvalIsRecursive) {
  Net net;
  EXPECT_TRUE(net.training());
  net.eval();
  for (auto& [_, m] : net.named_modules()) EXPECT_FALSE(m->training());
  net.layers[0]->train();
  EXPECT_TRUE(net.layers[0]->up->training());
  EXPECT_FALSE(net.head->training());
  net.train();
  for (auto& [_, m] : net.named_modules()) EXPECT_TRUE(m->training());
}

TEST(Module, UpdateApplyAndSetDtype) {
  Net net;
  net.update({{"head.bias", array({1.0f, 2.0f})}});
  EXPECT_EQ(net.head->bias_->to_vector<float>(), (std::vector<float>{1, 2}));
  EXPECT_THROW(net.update({{"head.nope", array({1.0f})}}), std::invalid_argument);
  EXPECT_NO_THROW(net.update({{"head.nope", array({1.0f})}}, false));
  EXPECT_THROW(net.update({{"head.bias", array({1.0f})}}), std::invalid_argument);  // shape
  net.apply([](const array& a) { return add(a, array(1.0f)); });
  EXPECT_EQ(net.head->bias_->to_vector<float>(), (std::vector<float>{2, 3}));
  EXPECT_EQ(net.scale.item<float>(), 2.0f);
  // Only the biases, through a filter.
  net.apply([](const array& a) { return multiply(a, array(10.0f)); },
            [](const nn::Module&, const std::string& k, const array&) { return k == "bias"; });
  EXPECT_EQ(net.head->bias_->to_vector<float>(), (std::vector<float>{20, 30}));
  EXPECT_EQ(net.scale.item<float>(), 2.0f);
  net.set_dtype(bfloat16);
  for (auto& [_, a] : net.parameters()) EXPECT_EQ(a.dtype(), bfloat16);
}

TEST(Module, ApplyToModulesVisitsEveryPath) {
  Net net;
  std::vector<std::string> seen;
  net.apply_to_modules([&](const std::string& p, nn::Module&) { seen.push_back(p); });
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "layers.1.norm"), 1);
  // Freezing through it, as MLX's example: train only the norms.
  net.freeze();
  net.apply_to_modules([](const std::string& p, nn::Module& m) {
    if (p.size() >= 4 && p.compare(p.size() - 4, 4, "norm") == 0) m.unfreeze();
  });
  EXPECT_EQ(net.trainable_parameters().size(), 4u);
}

void fill_random(Net& net) {
  uint32_t seed = 1;
  net.apply([&](const array& a) { return random::normal(a.shape(), a.dtype(), random::key(seed++)); });
}

void expect_same(const std::map<std::string, array>& a, const std::map<std::string, array>& b) {
  ASSERT_EQ(keys_of(a), keys_of(b));
  for (auto [k, v] : a) {
    array w = b.at(k);
    EXPECT_EQ(v.shape(), w.shape()) << k;
    EXPECT_EQ(v.to_vector<float>(), w.to_vector<float>()) << k;
  }
}

TEST(Module, SaveLoadRoundTrip) {
  auto dir = std::filesystem::temp_directory_path() / ("uma_nn_module_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (std::string ext : {".safetensors", ".npz"}) {
    Net a, b;
    fill_random(a);
    std::string path = (dir / ("w" + ext)).string();
    a.save_weights(path);
    b.load_weights(path);
    expect_same(a.parameters(), b.parameters());
    // Changing a parameter of b does not touch a (values, not aliases).
    b.update({{"scale", array(5.0f)}});
    EXPECT_NE(a.scale.item<float>(), 5.0f);
  }
  Net c;
  EXPECT_THROW(c.save_weights((dir / "w.bin").string()), std::invalid_argument);
  EXPECT_THROW(c.load_weights((dir / "w.bin").string()), std::invalid_argument);
  std::filesystem::remove_all(dir);
}

TEST(Module, StrictLoadNamesMissingAndExtraKeys) {
  Net net;
  auto w = net.parameters();
  w.erase("head.bias");
  w.emplace("head.extra", array(1.0f));
  try {
    net.load_weights(w);
    FAIL();
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("[load_weights]", 0), 0u);
    EXPECT_NE(msg.find("head.bias"), std::string::npos);
    EXPECT_NE(msg.find("head.extra"), std::string::npos);
  }
  EXPECT_NO_THROW(net.load_weights(w, false));
}

}  // namespace
