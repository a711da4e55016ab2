#pragma once
// The netlink requests the kernel backend sends, made readable (`netchaos apply --dry-run`):
// the tc/ip command each amounts to, its decoded header and attributes, and its bytes. Pure:
// it reads bytes only (the tc words of a netem come from show.hpp's decoder and tc_words).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace netchaos::netem {

struct DecodedRequest {
    std::string type;                 // "RTM_NEWQDISC"
    std::string flags;                // "REQUEST|ACK|CREATE|REPLACE"
    std::uint32_t seq = 0;
    std::string command;              // "tc qdisc replace dev eth0 root handle 6e65: netem delay 50ms"
    std::vector<std::string> fields;  // header and attributes, one each: "tcmsg ifindex 2 parent root ..."
    std::string hex;                  // the whole message
};

// Decodes `msgs` in order. `dev_name` names an interface index ("" if unknown); a link the
// requests create (RTM_NEWLINK) names the placeholder index of the messages after it.
std::vector<DecodedRequest> decode_requests(const std::vector<std::vector<std::uint8_t>>& msgs,
                                            const std::function<std::string(int)>& dev_name);

// One printer for both forms.
nlohmann::json to_json(const DecodedRequest& r);
std::string to_text(const DecodedRequest& r, std::size_t number);

}  // namespace netchaos::netem
