#include "command.hpp"

#include <algorithm>

namespace netchaos::cli {

namespace {
std::vector<Command>& registry() {
    static std::vector<Command> r;  // function-local: safe against static-init order
    return r;
}
}  // namespace

bool register_command(const Command& c) {
    auto& r = registry();
    r.push_back(c);
    std::sort(r.begin(), r.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
    return true;
}

const std::vector<Command>& commands() { return registry(); }

}  // namespace netchaos::cli
