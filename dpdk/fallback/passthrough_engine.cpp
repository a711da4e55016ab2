// Stand-in for netchaos_fault while src/fault has no implementation in the tree: every
// packet passes untouched at its receive time. Linked only when netchaos_fault is absent
// (see dpdk/CMakeLists.txt); the forwarder reports "engine": "passthrough-fallback".
#include "fault/engine.hpp"

namespace netchaos::fault {

struct Model {};
struct Engine::State {};

Result<ModelPtr> compile(const profile::Impairment& imp) {
    if (imp.delay || imp.loss || imp.duplicate || imp.corrupt || imp.reorder || imp.rate || imp.slot)
        return make_error("fault engine not built: only pass-through profiles can be forwarded", 4);
    return ModelPtr(std::make_shared<const Model>());
}
ModelPtr passthrough() { return std::make_shared<const Model>(); }

Engine::Engine(ModelPtr model, std::uint64_t seed) : model_(std::move(model)), rng_(seed), st_(std::make_shared<State>()) {}
Decision Engine::decide(std::int64_t rx_ns, std::uint32_t, bool) { Decision d; d.release_ns = rx_ns; return d; }
void Engine::switch_model(ModelPtr model) { model_ = std::move(model); }

}  // namespace netchaos::fault
