// Profile -> tc words. tc's units (see profile/tc_import.hpp): times in s/ms/us/ns, rates in
// bit units, percentages with '%'. Each value is printed exactly, so tc reads back the value
// the profile holds.
#include "netem/tc_words.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <arpa/inet.h>
#include <linux/if_ether.h>

#include "netem/apply.hpp"
#include "netem/encode.hpp"
#include "netem/tcmsgs.hpp"
#include "profile/units.hpp"

namespace netchaos::netem {

namespace {

std::string tc_time(profile::Duration d) {
    const auto ns = d.count();
    if (ns == 0) return "0";
    if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
    if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
    if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
    return std::to_string(ns) + "ns";
}

std::string tc_rate(std::uint64_t bytes_per_sec) {
    const unsigned __int128 bits = static_cast<unsigned __int128>(bytes_per_sec) * 8;
    const auto str = [](unsigned __int128 v) { return std::to_string(static_cast<unsigned long long>(v)); };
    if (bits != 0 && bits % 1'000'000'000'000 == 0) return str(bits / 1'000'000'000'000) + "tbit";
    if (bits != 0 && bits % 1'000'000'000 == 0) return str(bits / 1'000'000'000) + "gbit";
    if (bits != 0 && bits % 1'000'000 == 0) return str(bits / 1'000'000) + "mbit";
    if (bits != 0 && bits % 1'000 == 0) return str(bits / 1'000) + "kbit";
    if (bits <= 0xFFFFFFFFFFFFFFFFull) return str(bits) + "bit";
    return std::to_string(bytes_per_sec) + "bps";
}

std::string pct(double f) { return profile::format_percent(f); }

std::string dist_name(profile::Distribution d) { return std::string(profile::to_string(d)); }

}  // namespace

TcWords netem_words(const profile::Impairment& imp) {
    TcWords out;
    std::ostringstream w;
    auto word = [&](const std::string& s) { w << (w.tellp() > 0 ? " " : "") << s; };
    if (imp.limit != 1000) word("limit " + std::to_string(imp.limit));
    // tc sends TCA_NETEM_CORR only when a correlation word is typed, and a duplicate
    // correlation does not count: with one and no other, type another correlation as 0%.
    const bool dup_corr = imp.duplicate && imp.duplicate->correlation != 0;
    bool other_corr = (imp.delay && imp.delay->correlation != 0) || (imp.reorder && imp.reorder->correlation != 0) ||
                      (imp.corrupt && imp.corrupt->correlation != 0);
    if (imp.loss)
        if (const auto* r = std::get_if<profile::RandomLoss>(&imp.loss->model)) other_corr |= r->correlation != 0;
    bool need_zero_corr = dup_corr && !other_corr;
    if (const auto& d = imp.delay) {
        // tc reads delay and jitter in whole microseconds (netchaos sends nanoseconds).
        const auto us = [&](profile::Duration t) {
            if (t.count() % 1000 != 0)
                out.notes.push_back(tc_time(t) + ": tc's delay and jitter are whole microseconds; netchaos apply sends the nanoseconds");
            return tc_time(profile::Duration{t.count() / 1000 * 1000});
        };
        word("delay " + us(d->mean));
        if (d->jitter.count() > 0) {
            word(us(d->jitter));
            if (d->correlation != 0 || need_zero_corr) {
                word(pct(d->correlation));
                need_zero_corr = false;
            }
            if (d->distribution == profile::Distribution::custom) {
                if (d->table && !d->table->file.empty()) {
                    const auto stem = d->table->file.stem().string();
                    word("distribution " + stem);
                    out.notes.push_back("tc loads distribution " + stem + " from its library directory (e.g. /usr/lib/tc/" + stem +
                                        ".dist); copy " + d->table->file.string() + " there");
                } else {
                    out.notes.push_back("delay samples: tc has no way to pass a table inline; netchaos apply builds it from the "
                                        "samples (tc needs them as a .dist file: distribution NAME)");
                }
            } else if (d->distribution != profile::Distribution::uniform) {
                word("distribution " + dist_name(d->distribution));
            }
        } else if (d->correlation != 0) {
            out.notes.push_back("a delay correlation without jitter changes nothing and tc cannot say it");
        }
    }
    if (const auto& l = imp.loss) {
        if (const auto* r = std::get_if<profile::RandomLoss>(&l->model)) {
            word("loss random " + pct(r->p));
            if (r->correlation != 0 || need_zero_corr) {
                word(pct(r->correlation));
                need_zero_corr = false;
            }
        } else if (const auto* g = std::get_if<profile::GilbertElliott>(&l->model)) {
            word("loss gemodel " + pct(g->p) + " " + pct(g->r) + " " + pct(g->one_minus_h) + " " + pct(g->one_minus_k));
        } else if (const auto* m = std::get_if<profile::Markov4>(&l->model)) {
            word("loss state " + pct(m->p13) + " " + pct(m->p31) + " " + pct(m->p32) + " " + pct(m->p23) + " " + pct(m->p14));
        }
        if (l->ecn) word("ecn");
    }
    if (const auto& c = imp.corrupt) {
        word("corrupt " + pct(c->p));
        if (c->correlation != 0 || need_zero_corr) {
            word(pct(c->correlation));
            need_zero_corr = false;
        }
    }
    if (const auto& r = imp.reorder) {
        word("reorder " + pct(r->p));
        if (r->correlation != 0 || need_zero_corr) {
            word(pct(r->correlation));
            need_zero_corr = false;
        }
        if (r->gap > 1) word("gap " + std::to_string(r->gap));
    }
    if (const auto& d = imp.duplicate) {
        word("duplicate " + pct(d->p));
        if (d->correlation != 0) word(pct(d->correlation));
        if (need_zero_corr)
            out.notes.push_back("tc sends a duplicate correlation only along with another correlation, and this profile has no "
                                "feature to carry one: tc drops " + pct(d->correlation) + ", netchaos apply sends it");
    }
    if (const auto r = netem_rate(imp)) {
        word("rate " + tc_rate(r->bytes_per_sec));
        if (r->packet_overhead || r->cell_size || r->cell_overhead) {
            word(std::to_string(r->packet_overhead));
            if (r->cell_size || r->cell_overhead) word(std::to_string(r->cell_size) + " " + std::to_string(r->cell_overhead));
        }
        if (!imp.rate) out.notes.push_back("rate " + tc_rate(r->bytes_per_sec) + " is how the kernel keeps order for reorder = false (no real limit)");
    }
    if (const auto& s = imp.slot) {
        if (s->distribution) {
            word("slot distribution " + dist_name(*s->distribution) + " " + tc_time(s->dist_delay) + " " + tc_time(s->dist_jitter));
            if (*s->distribution == profile::Distribution::uniform)
                out.notes.push_back("tc has no uniform table file for a slot distribution; netchaos apply sends none (uniform)");
        } else {
            word("slot " + tc_time(s->min_delay));
            if (s->max_delay != s->min_delay && s->max_delay.count() != 0) word(tc_time(s->max_delay));
        }
        if (s->max_packets) word("packets " + std::to_string(*s->max_packets));
        if (s->max_bytes) word("bytes " + std::to_string(*s->max_bytes));
    }
    if (imp.seed) {
        word("seed " + std::to_string(*imp.seed));
        out.notes.push_back("seed is a word of newer tc than iproute2 6.1; an older tc refuses it (drop it there: only the RNG differs)");
    }
    out.words = w.str();
    return out;
}

namespace {

std::string handle_text(std::uint32_t h) {
    std::ostringstream o;
    o << std::hex << (h >> 16) << ":";
    if (h & 0xFFFF) o << (h & 0xFFFF);
    return o.str();
}

// `tc filter ... u32 match ...` words for one IP version of a class's match, in the order
// u32_match() builds its keys (tc packs them in the order of the words).
std::string match_words(const profile::FlowMatch& m, bool v6) {
    const std::string ip = v6 ? "ip6" : "ip";
    std::string s;
    if (m.src) s += " match " + ip + " src " + m.src->address + "/" + std::to_string(m.src->prefix);
    if (m.dst) s += " match " + ip + " dst " + m.dst->address + "/" + std::to_string(m.dst->prefix);
    if (m.protocol != profile::Protocol::any) {
        int p = v6 ? 58 : 1;   // ICMPv6 / ICMP
        if (m.protocol == profile::Protocol::tcp) p = 6;
        if (m.protocol == profile::Protocol::udp) p = 17;
        s += " match " + ip + " protocol " + std::to_string(p) + " 0xff";
    }
    if (m.dscp) s += " match " + ip + (v6 ? " priority " : " dsfield ") + std::to_string(*m.dscp << 2) + " 0xfc";
    if (m.sport) s += " match " + ip + " sport " + std::to_string(*m.sport) + " 0xffff";
    if (m.dport) s += " match " + ip + " dport " + std::to_string(*m.dport) + " 0xffff";
    if (s.empty()) s = " match u32 0 0";
    return s;
}

}  // namespace

Result<TcScript> tc_script(const profile::Profile& p, const std::string& dev, bool ingress_flag) {
    auto places = place(p, ingress_flag);
    if (!places) return places.error();
    if (single_match(p) && places->size() != 1)
        return make_error("a [match] profile impairs one direction: give [egress] or [ingress], not both", ErrorKind::bad_input);
    std::vector<std::vector<U32Match>> matches;
    for (const auto& c : p.classes) {
        auto m = u32_matches(c.match);
        if (!m) return make_error("class \"" + c.name + "\": " + m.error().message, m.error().kind);
        matches.push_back(std::move(*m));
    }
    TcScript out;
    const std::string ifb = ifb_name_for(dev);
    const auto netem = [&](const profile::Impairment& imp) {
        auto words = netem_words(imp);
        for (auto& n : words.notes)   // once each, however many netems say it
            if (std::find(out.notes.begin(), out.notes.end(), n) == out.notes.end()) out.notes.push_back(std::move(n));
        return words.words;
    };
    for (const auto& pl : *places) {
        const std::string tree = pl.ingress ? ifb : dev;
        if (pl.ingress) {
            out.commands.push_back("ip link add " + ifb + " type ifb");
            out.commands.push_back("ip link set " + ifb + " up");
        }
        if (pl.classes.empty()) {
            out.commands.push_back("tc qdisc add dev " + tree + " root netem " + netem(*pl.imp));
        } else {
            // The order apply sends them in (apply.cpp's build_tree).
            const std::string root = handle_text(match_root_handle);
            std::ostringstream def;
            def << std::hex << unmatched_minor;
            out.commands.push_back("tc qdisc add dev " + tree + " root handle " + root + " htb" +
                                   (pl.imp ? " default " + def.str() : ""));
            const auto add_class = [&](std::uint32_t classid, const profile::Impairment* imp, std::uint32_t handle) {
                out.commands.push_back("tc class add dev " + tree + " parent " + root + " classid " + handle_text(classid) +
                                       " htb rate " + tc_rate(match_class_rate) + " ceil " + tc_rate(match_class_rate) +
                                       " burst " + std::to_string(match_class_burst) + " cburst " +
                                       std::to_string(match_class_burst) + " quantum " + std::to_string(match_class_quantum));
                if (imp)
                    out.commands.push_back("tc qdisc add dev " + tree + " parent " + handle_text(classid) + " handle " +
                                           handle_text(handle) + " netem " + netem(*imp));
            };
            if (pl.imp) add_class(unmatched_class, pl.imp, unmatched_netem_handle);
            for (std::size_t i = 0; i < pl.classes.size(); ++i) add_class(class_id(i), pl.classes[i], class_netem_handle(i));
            for (std::size_t i = 0; i < matches.size(); ++i)
                for (const auto& m : matches[i]) {
                    const bool v6 = m.eth_protocol == 0x86DD;
                    out.commands.push_back("tc filter add dev " + tree + " parent " + root + " protocol " +
                                           (v6 ? "ipv6" : "ip") + " prio " + std::to_string(class_filter_pref(i, v6)) +
                                           " u32" + match_words(p.classes[i].match, v6) + " flowid " + handle_text(class_id(i)));
                }
        }
        if (pl.ingress) {
            out.commands.push_back("tc qdisc add dev " + dev + " handle ffff: ingress");
            out.commands.push_back("tc filter add dev " + dev + " parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev " + ifb);
        }
    }
    return out;
}

}  // namespace netchaos::netem
