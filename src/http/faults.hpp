#pragma once
// Per-request HTTP fault decisions: (rules, request metadata, engine state) -> Decision.
// Pure C++, no sockets: the proxy (proxy.cpp) is the only I/O around it. Every random draw
// is made by src/fault's Engine (a delay is an Impairment with only a delay, an abort is a
// random loss with its correlation, a throttle is the engine's rate link), so HTTP delays
// have exactly the distributions and the correlation the network backends have.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "fault/engine.hpp"
#include "profile/profile.hpp"

namespace netchaos::http {

struct Header {
    std::string_view name;
    std::string_view value;
};

struct RequestMeta {
    std::string_view method;
    std::string_view target;           // as sent: "/checkout?x=1" or, to a forward proxy, "http://h/checkout"
    std::span<const Header> headers;
};

enum class AbortKind : std::uint8_t { none, status, reset };

struct Decision {
    int route = -1;                      // index into Http::routes; -1 = the [http] table's own faults
    std::int64_t request_delay_ns = 0;   // wait this long before forwarding
    std::int64_t response_delay_ns = 0;  // then this long before the response's first byte
    std::uint64_t throttle_bps = 0;      // response body rate, bytes/s; 0 = none
    AbortKind abort = AbortKind::none;
    std::uint16_t status = 0;            // AbortKind::status: the status to answer with
    bool from_header = false;            // X-Jitter / X-Fault-Abort decided the delay or abort
    std::string header_error;            // a control header was honoured but malformed: answer 400 with this
};

// The control headers (opt-in, see Decider::decide).
inline constexpr std::string_view jitter_header = "X-Jitter";
inline constexpr std::string_view abort_header = "X-Fault-Abort";
bool is_control_header(std::string_view name);

// "150ms" (a constant delay) or "normal(50ms, 30ms)" / "uniform(50ms, 10ms)" / "pareto(...)" /
// "paretonormal(...)": mean and jitter as in a profile's delay (sigma; half-width for uniform).
// Nothing above `max` (mean + jitter) is accepted: a header must not park a connection for hours.
Result<profile::Delay> parse_jitter_header(std::string_view value, profile::Duration max);
// "429" (any 400-599) or "reset".
Result<profile::HttpAbort> parse_abort_header(std::string_view value);

// The first route of `h` matching the request, or -1.
int match_route(const profile::Http& h, const RequestMeta& req);

// The compiled, immutable rules (one per route plus the top level).
struct Rules;
using RulesPtr = std::shared_ptr<const Rules>;
Result<RulesPtr> compile(const profile::Http& h);   // bad_input on a bad profile

class Decider {
public:
    Decider(RulesPtr rules, std::uint64_t seed, profile::Duration max_header_delay = std::chrono::seconds(10));
    // header_control: the caller allows X-Jitter / X-Fault-Abort for this request (the proxy
    // runs with --header-control, the source is in --header-allow, the active-fault cap is not
    // reached). When false the headers change nothing.
    Decision decide(const RequestMeta& req, std::int64_t now_ns, bool header_control = false);
    // Live switch: the new rules' engines start fresh; decisions already made stand.
    void switch_rules(RulesPtr rules);
    const profile::Http& http() const;
private:
    struct Engines {
        std::optional<fault::Engine> request, response, abort;
    };
    void build();
    std::int64_t header_delay(const std::string& value, std::int64_t now_ns, std::string& error);
    RulesPtr rules_;
    Rng seeds_;                        // seeds each engine it builds, so one seed fixes them all
    profile::Duration max_header_delay_;
    std::vector<Engines> engines_;     // [0] = top level, [1 + i] = route i
    std::map<std::string, fault::Engine> header_engines_;   // by X-Jitter text, bounded
};

// Paces a throttled response body on the engine's rate link: the chunk of `bytes` written at
// rx may leave at the returned time (the body leaves at throttle_bps from `start_ns`).
class Pacer {
public:
    static Result<Pacer> make(std::uint64_t bytes_per_sec);
    std::int64_t release_ns(std::int64_t start_ns, std::uint32_t bytes) { return engine_.decide(start_ns, bytes).release_ns; }
private:
    explicit Pacer(fault::Engine e) : engine_(std::move(e)) {}
    fault::Engine engine_;
};

}  // namespace netchaos::http
