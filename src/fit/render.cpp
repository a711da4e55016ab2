// fit's TOML: the profile printer (profile::to_text) for the impairments, comments around it
// with each fit's evidence.
#include <cstdio>
#include <sstream>

#include "fit/fit.hpp"
#include "profile/parse.hpp"
#include "profile/units.hpp"

namespace netchaos::fit {

namespace {

std::string fmt(const char* f, auto... args) {
    char buf[1024];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
}

std::string law_name(Distribution d) { return std::string(profile::to_string(d)); }

std::string duration_text(Nanos d) { return std::to_string(std::max<std::int64_t>(1, d.count() / 1'000'000)) + "ms"; }

// The goodness comment of one piece.
std::string evidence(const Piece& p, std::size_t index) {
    std::ostringstream o;
    o << fmt("# piece %zu: t = %.1f s .. %.1f s, %llu answered, RTT mean %.3f ms sd %.3f ms\n", index + 1,
             std::chrono::duration<double>(p.start).count(), std::chrono::duration<double>(p.start + p.duration).count(),
             (unsigned long long)p.received, p.rtt_mean_ms, p.rtt_sd_ms);
    auto direction = [&](const char* what, const std::vector<LawFit>& laws, const profile::Delay& d, double ks) {
        o << "#   " << what << " fits (maximum likelihood, best first; KS D against the piece's data):\n";
        for (const auto& l : laws)
            o << fmt("#     %-12s mean %.3f ms jitter %.3f ms  log-likelihood/sample %.4f  KS D %.4f\n", law_name(l.law).c_str(),
                     l.mean_ms, l.jitter_ms, l.loglik, l.ks);
        if (d.distribution == Distribution::custom)
            o << fmt("#   chosen: custom (no law within the KS limit), %zu quantiles, KS D %.4f\n",
                     d.table ? d.table->samples_ms.size() : 0, ks);
        else
            o << fmt("#   chosen: %s, KS D %.4f\n", law_name(d.distribution).c_str(), ks);
        o << fmt("#   correlation: lag-1 r of normal scores %.3f\n", d.correlation);
    };
    if (p.ingress) {
        direction("egress delay (client->server one-way)", p.laws, p.delay, p.ks);
        direction("ingress delay (server->client one-way)", p.ingress_laws, *p.ingress, p.ingress_ks);
    } else {
        direction("delay", p.laws, p.delay, p.ks);
    }
    if (p.ingress_loss) {
        o << "#   egress loss (lost client->server, or which way unknown): " << p.loss.why << "\n";
        o << "#   ingress loss (lost server->client, of the probes that reached it): " << p.ingress_loss->why << "\n";
    } else {
        o << "#   loss: " << p.loss.why << "\n";
    }
    return o.str();
}

profile::Impairment impairment_of(const Piece& p) {
    profile::Impairment imp;
    imp.delay = p.delay;
    if (p.loss.loss) imp.loss = *p.loss.loss;
    return imp;
}

std::optional<profile::Impairment> ingress_of(const Piece& p) {
    const bool loss = p.ingress_loss && p.ingress_loss->loss;
    if (!p.ingress && !loss) return std::nullopt;
    profile::Impairment imp;
    if (p.ingress) imp.delay = *p.ingress;
    if (loss) imp.loss = *p.ingress_loss->loss;
    return imp;
}

std::string loss_attribution(const Fit& f) {
    return f.loss_split ? "# The trace says which way its probes were lost: egress loss is fitted from those lost\n"
                          "# client->server (and any of unknown way), ingress loss from those lost server->client.\n"
                        : "";
}

std::string attribution(const Fit& f) {
    if (f.floor > Nanos{0})
        return fmt("# The bench's own RTT (floor %.3f ms, the median of a fault-free recording of the same bench)\n"
                   "# is taken off every RTT before fitting (clamped at 0): the fitted delays are the path alone,\n"
                   "# %s. The replay bench adds its own RTT back.\n",
                   f.floor.count() / 1e6,
                   f.split ? "half of it off each direction's one-way delays; egress is fitted from the client->server\n"
                             "# delays, ingress from the server->client ones; loss on egress unless the trace says which way"
                           : "attributed to the path and put on egress");
    if (f.split)
        return "# The trace has one-way times: egress is fitted from the client->server delays, ingress from\n"
               "# the server->client ones (each piece cut on the RTT); loss goes on egress unless the trace\n"
               "# says which way it was lost. The replay bench's own one-way delays add to each.\n";
    return f.one_way ? "# The source had one-way times for too few probes (< 90% of the answered): the whole RTT\n"
                       "# is attributed to the path's egress delay.\n"
                     : "# The trace has RTTs only (no one-way times): the whole delay is attributed to the path\n"
                       "# and put on egress; the replay bench's own RTT adds to it.\n";
}

}  // namespace

std::string render(const Fit& f, const RenderOptions& o) {
    std::ostringstream out;
    out << "# Fitted by `netchaos fit` from " << (o.source.empty() ? "a trace" : o.source) << " ("
        << f.records << " probes, " << f.pieces.size() << (f.pieces.size() == 1 ? " piece" : " pieces") << ").\n"
        << attribution(f) << loss_attribution(f)
        << "# reorder = true: each probe's RTT was an independent draw of the path, as the fitted law is.\n";
    if (f.pieces.size() == 1 && !o.force_experiment) {
        out << evidence(f.pieces[0], 0);
        profile::Profile p;
        p.name = o.name;
        p.description = "fitted from " + (o.source.empty() ? std::string("a trace") : o.source);
        p.egress = impairment_of(f.pieces[0]);
        p.ingress = ingress_of(f.pieces[0]);
        out << profile::to_text(p);
        return out.str();
    }
    out << "name = \"" << o.name << "\"\n";
    out << "description = \"fitted from " << o.source << ": " << f.pieces.size() << " phases\"\n\n";
    out << "# Where the replay runs: edit for your bench (these are scripts/bench-netns.sh's defaults).\n";
    out << "[target]\nbackend = \"" << o.backend << "\"\n";
    if (o.backend == "dpdk") out << "control = \"" << o.control << "\"\n";
    out << "\n[probe]\ntarget = \"" << o.probe_target << "\"\n";
    if (!o.probe_netns.empty()) out << "netns = \"" << o.probe_netns << "\"\n";
    out << "rate = " << o.probe_rate << "\n";
    for (std::size_t i = 0; i < f.pieces.size(); ++i) {
        const auto& p = f.pieces[i];
        out << "\n" << evidence(p, i);
        out << "[[phase]]\nname = \"piece-" << (i + 1) << "\"\nduration = \"" << duration_text(p.duration) << "\"\n";
        out << profile::to_text(impairment_of(p), "phase.egress");
        if (const auto in = ingress_of(p)) out << profile::to_text(*in, "phase.ingress");
    }
    return out.str();
}

}  // namespace netchaos::fit
