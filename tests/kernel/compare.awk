# Compares `netchaos show -j` (lines "J <json>") with `tc -d qdisc show` (lines "T <line>"):
# every netem qdisc in the JSON must be printed by tc with the same parameters (1% or
# 0.002 tolerance). One awk process per profile: process spawns are slow under TCG.
function jraw(o, k) { if (!match(o, "\"" k "\":[^,}]*")) return ""; v = substr(o, RSTART + length(k) + 3, RLENGTH - length(k) - 3); gsub(/"/, "", v); return v }
function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v + 0 }
function bits(v) { x = v + 0; if (v ~ /Kbit$/) x *= 1e3; else if (v ~ /Mbit$/) x *= 1e6; else if (v ~ /Gbit$/) x *= 1e9; else if (v ~ /Tbit$/) x *= 1e12; return x }
function near(a, b) { d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a; return d <= 0.01 * m + 0.002 }
function cmp(what, j, t) { if (!near(j + 0, t + 0)) { print "MISMATCH " dev " " h " " what ": json " j " tc " t " | " line; bad++ } else checked++ }
/^J / { json = substr($0, 3) }
/^T qdisc netem / { n = split(substr($0, 3), w, " "); tcl[w[5] " " w[3]] = substr($0, 3) }
END {
  s = json; sub(/.*"qdiscs":\[/, "", s); d = 0; o = ""; nq = 0
  for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); if (c == "{") d++; if (d > 0) o = o c
    if (c == "}") { d--; if (d == 0) { q[++nq] = o; o = "" } } if (d < 0) break }
  if (nq == 0) { print "MISMATCH: netchaos show -j lists no netem qdisc"; exit 1 }
  for (k = 1; k <= nq; k++) {
    o = q[k]; dev = jraw(o, "dev"); h = jraw(o, "handle"); line = tcl[dev " " h]
    if (line == "") { print "MISMATCH: tc shows no netem " h " on " dev; bad++; continue }
    n = split(line, w, " "); delay = 0; jit = 0; loss = 0; dup = 0; cor = 0; reo = 0; model = "random"; ecn = "false"; slot = 0; rate = ""
    for (i = 1; i <= n; i++) {
      if (w[i] == "limit") cmp("limit", jraw(o, "limit"), w[i + 1])
      if (w[i] == "delay") { delay = ms(w[i + 1]); if (w[i + 2] ~ /^[0-9.]+(us|ms|s)$/) jit = ms(w[i + 2]) }
      if (w[i] == "loss" && w[i + 1] ~ /%$/) loss = w[i + 1] + 0
      if (w[i] == "gemodel") model = "gilbert-elliott"
      if (w[i] == "state") model = "markov4"
      if (w[i] == "duplicate") dup = w[i + 1] + 0
      if (w[i] == "corrupt") cor = w[i + 1] + 0
      if (w[i] == "reorder") reo = w[i + 1] + 0
      if (w[i] == "rate") rate = bits(w[i + 1])
      if (w[i] == "ecn") ecn = "true"
      if (w[i] == "slot") slot = 1
    }
    cmp("delay_ms", jraw(o, "delay_ms"), delay); cmp("jitter_ms", jraw(o, "jitter_ms"), jit)
    cmp("loss_pct", jraw(o, "loss_pct"), loss); cmp("duplicate_pct", jraw(o, "duplicate_pct"), dup)
    cmp("corrupt_pct", jraw(o, "corrupt_pct"), cor); cmp("reorder_pct", jraw(o, "reorder_pct"), reo)
    # reorder = false without a profile rate is netem's rate at 8 Tbit/s: show says "order
    # preserve" and no rate; without any rate, jitter reorders (netem/encode.hpp)
    if (rate == 8e12) {
      if (jraw(o, "order") != "preserve" || jraw(o, "rate_bits_per_s") != "") { print "MISMATCH " dev " " h " order-keeping rate: json order " jraw(o, "order") " rate " jraw(o, "rate_bits_per_s"); bad++ } else checked++
    } else if (rate != "") cmp("rate", jraw(o, "rate_bits_per_s"), rate)
    if (rate == "" && delay + jit > 0 && jraw(o, "order") != "reorder") { print "MISMATCH " dev " " h " tc has no rate, json order " jraw(o, "order"); bad++ }
    if (jraw(o, "loss_model") != model) { print "MISMATCH " dev " " h " loss model: json " jraw(o, "loss_model") " tc " model; bad++ }
    if (jraw(o, "ecn") != ecn) { print "MISMATCH " dev " " h " ecn: json " jraw(o, "ecn") " tc " ecn; bad++ }
    if (slot != (o ~ /"slot":/)) { print "MISMATCH " dev " " h " slot: tc " slot; bad++ }
  }
  print nq " netem qdisc(s), " checked " values agree"
  exit bad > 0
}
