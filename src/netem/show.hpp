#pragma once
// Read back the netem qdiscs of this namespace into the profile's own value types, so an apply
// followed by a read-back compares for equality (`netchaos show --profile`). Parameters come
// from the raw TCA_OPTIONS the kernel dumps (one decoder, pure); libnl-route-3 supplies the
// qdisc stats. One printer (iproute2's PRINT_ANY style) serves `show`'s text and JSON.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "netem/ledger.hpp"
#include "profile/profile.hpp"

namespace netchaos::netem {

// TCA_OPTIONS as netem dumps it -> the impairment it holds (pure). netem does not report
// everything: delay and slot tables are not dumped, so a distribution reads back as uniform;
// the PRNG seed is dumped from Linux 6.4 on. The order-keeping rate (encode.hpp) reads back as
// reorder = false and no rate; any other rate also keeps order, so it reads back as
// reorder = false with that rate. Probabilities read back as the shortest percentage that
// encodes to the kernel's u32, parsed by the profile's own unit parser: "1%" comes back as 0.01.
profile::Impairment impairment_from_options(std::span<const std::uint8_t> options);

struct QdiscStats {
    std::uint64_t bytes = 0, packets = 0, drops = 0, overlimits = 0, backlog = 0, qlen = 0, requeues = 0;
};

struct NetemInfo {
    std::string dev;
    int ifindex = 0;
    std::uint32_t handle = 0, parent = 0;
    profile::Impairment imp;   // read back from the kernel
    QdiscStats stats;
};

// Every netem qdisc, or those on `dev` and its IFB.
Result<std::vector<NetemInfo>> read_netem(const std::optional<std::string>& dev);

// The profile netchaos applied to `dev`, read back: the impairments from the kernel, and from
// the ledger's record what the kernel does not report (name, description, [match], delay and
// slot distributions and their tables, the seed before Linux 6.4). Equal to the applied profile
// when the kernel holds what was sent. nullopt: no complete netchaos apply on `dev`.
Result<std::optional<profile::Profile>> read_applied(const std::string& dev, const Ledger& l,
                                                     const std::vector<NetemInfo>& qdiscs);

// `netchaos show`: one printer for both forms (iproute2's print_* with PRINT_ANY).
nlohmann::json to_json(const NetemInfo& q);
std::string to_text(const NetemInfo& q);
std::string handle_str(std::uint32_t h);   // "8001:", "root", "ffff:fff1" -> tc's notation

}  // namespace netchaos::netem
