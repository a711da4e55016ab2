#pragma once
// The probe datagram. Fixed 48-byte header in network byte order, optional padding after it:
//
//   0  magic    u32  "NCPR"
//   4  version  u8   1
//   5  kind     u8   0 = request (client -> reflector), 1 = reply
//   6  reserved u16  0
//   8  session  u64  random per prober run: replies to someone else's run are ignored
//  16  seq      u64
//  24  send_ns  u64  client send time (its CLOCK_MONOTONIC); echoed back untouched
//  32  srv_rx   u64  reflector receive time (its clock, any epoch)
//  40  srv_tx   u64  reflector send time (same clock): srv_tx - srv_rx is taken out of the RTT
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

}  // namespace netchaos::probe::wire
