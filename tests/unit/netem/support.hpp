#pragma once
// Shared by the kernel backend's unit tests: golden files written by scripts/capture-tc-*.sh
// ("key: value" lines), hex of bytes, and a fake kernel for apply --dry-run.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "netem/netlink.hpp"

namespace netem_test {

using namespace netchaos;

struct Golden {
    std::map<std::string, std::string> fields;
    const std::string& at(const std::string& k) const {
        static const std::string none;
        auto it = fields.find(k);
        return it == fields.end() ? none : it->second;
    }
};

inline Golden read_golden(const std::filesystem::path& p) {
    Golden g;
    std::ifstream in(p);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(": ");
        if (colon != std::string::npos) g.fields[line.substr(0, colon)] = line.substr(colon + 2);
    }
    return g;
}

inline std::string hex(const std::uint8_t* p, std::size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    s.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}
inline std::string hex(const std::vector<std::uint8_t>& v) { return hex(v.data(), v.size()); }

// apply --dry-run records the requests apply sends (netem::RecordingSender in front of the
// kernel); this kernel is a fake that has eth0 (index 3) with nothing on it, and answers every
// dump with nothing.
struct EmptyKernel final : netem::Sender {
    std::uint32_t seq = 100;
    std::size_t dumps = 0;
    std::uint32_t next_seq() override { return ++seq; }
    netem::Ack transact(std::vector<std::uint8_t>) override {
        FAIL("a dry run sent a change request to the kernel");
        return {};
    }
    netem::Ack dump(std::vector<std::uint8_t>, const std::function<void(const nlmsghdr*)>&) override {
        ++dumps;
        return {};
    }
    int ifindex(const std::string& dev) override { return dev == "eth0" ? 3 : 0; }
};

}  // namespace netem_test
