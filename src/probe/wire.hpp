#pragma once
// The probe datagram. Fixed 48-byte header in network byte order, optional padding after it:
//
//   0  magic    u32  "NCPR"
//   4  version  u8   1
//   5  kind     u8   0 = request (client -> reflector), 1 = reply
//   6  flags    u8   bit 0: authenticated (an HMAC follows the header)
//   7  reserved u8   0
//   8  session  u64  random per prober run: replies to someone else's run are ignored
//  16  seq      u64
//  24  send_ns  u64  client send time (its CLOCK_MONOTONIC); echoed back untouched
//  32  srv_rx   u64  reflector receive time (its clock, any epoch)
//  40  srv_tx   u64  reflector send time (same clock): srv_tx - srv_rx is taken out of the RTT
//  48  hmac     32 B HMAC-SHA256 of the whole datagram with these 32 bytes zeroed (only
//                    when flags bit 0 is set; both ends share the key, like irtt's --hmac)
//
// By default the reflector stamps srv_rx = 0 and srv_tx = its processing time, so a reply
// tells nobody the reflector's clock; `reflect --wall-clock` stamps CLOCK_REALTIME.
//
// Decoding is total: any byte string gives either a packet or a reason, never UB.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace netchaos::probe::wire {

inline constexpr std::uint32_t magic = 0x4e435052;  // "NCPR"
inline constexpr std::uint8_t version = 1;
inline constexpr std::size_t header_size = 48;
inline constexpr std::size_t max_size = 1472;       // one unfragmented datagram on a 1500 MTU
inline constexpr std::size_t mac_size = 32;
inline constexpr std::size_t auth_size = header_size + mac_size;   // smallest authenticated datagram
inline constexpr std::uint8_t flag_mac = 1;

enum class Kind : std::uint8_t { request = 0, reply = 1 };

struct Packet {
    Kind kind = Kind::request;
    std::uint64_t session = 0;
    std::uint64_t seq = 0;
    std::uint64_t send_ns = 0;
    std::uint64_t srv_rx_ns = 0;
    std::uint64_t srv_tx_ns = 0;
    bool operator==(const Packet&) const = default;
};

// Writes the header into out[0, 48). out.size() must be >= header_size.
void encode(const Packet& p, std::span<std::uint8_t> out);

enum class DecodeError { too_short, bad_magic, bad_version, bad_kind };
struct Decoded {
    std::optional<Packet> packet;
    DecodeError error = DecodeError::too_short;   // meaningful when !packet
};
Decoded decode(std::span<const std::uint8_t> in);

// Stamps the reflector's times into a request in place and turns it into a reply; the
// padding is echoed as is. Only call on a buffer that decoded as a request.
void make_reply(std::span<std::uint8_t> buf, std::uint64_t srv_rx_ns, std::uint64_t srv_tx_ns);

// Shared-key authentication (OpenSSL's HMAC-SHA256). sign() sets the flag and writes the MAC
// into [48, 80); buf.size() must be >= auth_size. verify() is false for a datagram without
// the flag, too short, or with a wrong MAC (compared in constant time).
void sign(std::span<std::uint8_t> buf, std::span<const std::uint8_t> key);
bool verify(std::span<const std::uint8_t> buf, std::span<const std::uint8_t> key);
bool has_mac(std::span<const std::uint8_t> buf);

}  // namespace netchaos::probe::wire
