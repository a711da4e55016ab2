#include "probe/wire.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace netchaos::probe::wire {

namespace {
void put(std::span<std::uint8_t> out, std::size_t at, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, v >>= 8) out[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
}
std::uint64_t get(std::span<const std::uint8_t> in, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | in[at + static_cast<std::size_t>(i)];
    return v;
}
}  // namespace

void encode(const Packet& p, std::span<std::uint8_t> out) {
    put(out, 0, magic, 4);
    out[4] = version;
    out[5] = static_cast<std::uint8_t>(p.kind);
    put(out, 6, 0, 2);   // flags: sign() sets them
    put(out, 8, p.session, 8);
    put(out, 16, p.seq, 8);
    put(out, 24, p.send_ns, 8);
    put(out, 32, p.srv_rx_ns, 8);
    put(out, 40, p.srv_tx_ns, 8);
}

Decoded decode(std::span<const std::uint8_t> in) {
    Decoded d;
    if (in.size() < header_size) return d;
    if (get(in, 0, 4) != magic) {
        d.error = DecodeError::bad_magic;
        return d;
    }
    if (in[4] != version) {
        d.error = DecodeError::bad_version;
        return d;
    }
    if (in[5] > static_cast<std::uint8_t>(Kind::reply)) {
        d.error = DecodeError::bad_kind;
        return d;
    }
    Packet p;
    p.kind = static_cast<Kind>(in[5]);
    p.session = get(in, 8, 8);
    p.seq = get(in, 16, 8);
    p.send_ns = get(in, 24, 8);
    p.srv_rx_ns = get(in, 32, 8);
    p.srv_tx_ns = get(in, 40, 8);
    d.packet = p;
    return d;
}

void make_reply(std::span<std::uint8_t> buf, std::uint64_t srv_rx_ns, std::uint64_t srv_tx_ns) {
    buf[5] = static_cast<std::uint8_t>(Kind::reply);
    put(buf, 32, srv_rx_ns, 8);
    put(buf, 40, srv_tx_ns, 8);
}

namespace {
// HMAC over the datagram with the MAC field zeroed; `mac` receives mac_size bytes.
bool compute_mac(std::span<const std::uint8_t> buf, std::span<const std::uint8_t> key, std::uint8_t* mac) {
    std::array<std::uint8_t, max_size> tmp{};
    if (buf.size() < auth_size || buf.size() > tmp.size()) return false;
    std::copy(buf.begin(), buf.end(), tmp.begin());
    std::fill_n(tmp.begin() + header_size, mac_size, std::uint8_t{0});
    unsigned len = 0;
    const auto* r = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), tmp.data(), buf.size(), mac, &len);
    return r != nullptr && len == mac_size;
}
}  // namespace

bool has_mac(std::span<const std::uint8_t> buf) { return buf.size() >= auth_size && (buf[6] & flag_mac); }

void sign(std::span<std::uint8_t> buf, std::span<const std::uint8_t> key) {
    buf[6] |= flag_mac;
    std::array<std::uint8_t, mac_size> mac{};
    if (!compute_mac(buf, key, mac.data())) mac.fill(0);   // cannot happen for a valid size; never verifies
    std::copy(mac.begin(), mac.end(), buf.begin() + header_size);
}

bool verify(std::span<const std::uint8_t> buf, std::span<const std::uint8_t> key) {
    if (!has_mac(buf)) return false;
    std::array<std::uint8_t, mac_size> mac{};
    if (!compute_mac(buf, key, mac.data())) return false;
    return CRYPTO_memcmp(mac.data(), buf.data() + header_size, mac_size) == 0;
}

}  // namespace netchaos::probe::wire
