# shellcheck source=../lib/nginx.bash
source "$NETCHAOS_SOURCE_DIR/tests/lib/nginx.bash"
# Sourced by tests/integration/http_*.sh (after tests/lib/common.sh): nginx on loopback as the
# upstream, netchaos http-proxy in front of it, curl as the client. Everything on 127.0.0.0/8.
http_requirements() {
  for c in nginx curl python3; do need_cmd "$c"; done
  W=$(mktemp -d /tmp/nc-http.XXXXXX)
  chmod 755 "$W"
  [[ -n ${NC_HTTP_KEEP:-} ]] || nc_defer "rm -rf $W"   # NC_HTTP_KEEP=1 keeps the files to look at
}

http_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# http_nginx_up: nginx on 127.0.0.1:$NGINX_PORT serving $W/nginx/html; its access log records
# the control headers it received ($http_x_jitter, $http_x_fault_abort), so a test can show
# they never arrive. /len answers the request's Content-Length (bodies forwarded whole).
http_nginx_up() {
  mkdir -p "$W/nginx/html"
  echo ok >"$W/nginx/html/index.html"
  head -c 1000000 /dev/urandom >"$W/nginx/html/big.bin"
  local i
  for i in 1 2 3 4 5; do
    NGINX_PORT=$(http_free_port)
    nginx_conf "$W/nginx/nginx.conf" "$W/nginx" 1 "log_format controls '\$request_method \$uri jitter=\$http_x_jitter abort=\$http_x_fault_abort';
  access_log $W/nginx/access.log controls;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $W/nginx/html;
    location = /len { client_max_body_size 10m; return 200 \"len=\$content_length\\n\"; }
  }"
    if [[ $(id -u) == 0 ]]; then
      chown -R nobody "$W/nginx"
      setpriv --reuid=nobody --regid=nogroup --clear-groups nginx -e "$W/nginx/nginx.error.log" -c "$W/nginx/nginx.conf" -p "$W/nginx" &
    else
      nginx -e "$W/nginx/nginx.error.log" -c "$W/nginx/nginx.conf" -p "$W/nginx" &
    fi
    NGINX_PID=$!
    nc_defer "kill $NGINX_PID; wait $NGINX_PID"
    local t
    for t in $(seq 100); do
      curl -s -m 1 -o /dev/null "http://127.0.0.1:$NGINX_PORT/" && return 0
      kill -0 "$NGINX_PID" 2>/dev/null || break
      sleep 0.1
    done
  done
  cat "$W/nginx/nginx.error.log" >&2
  fail "nginx did not come up on loopback"
}

# http_proxy_up NAME ARGS...: netchaos http-proxy on a free port in front of nginx; sets
# PROXY_PID_<NAME>-style globals PROXY_PID and PROXY (host:port) for the last one started.
http_proxy_up() {
  local name=$1; shift
  "$NETCHAOS" http-proxy --listen 127.0.0.1:0 --upstream "127.0.0.1:$NGINX_PORT" "$@" >"$W/$name.log" 2>&1 &
  PROXY_PID=$!
  nc_defer "kill $PROXY_PID; wait $PROXY_PID"
  local t port
  for t in $(seq 200); do
    port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$W/$name.log" 2>/dev/null)
    [[ -n $port ]] && { PROXY=127.0.0.1:$port; return 0; }
    kill -0 "$PROXY_PID" 2>/dev/null || { cat "$W/$name.log"; fail "http-proxy $name exited"; }
    sleep 0.05
  done
  cat "$W/$name.log"
  fail "http-proxy $name did not start"
}

# http_times OUT CLIENTS PER_CLIENT URL [curl args...]: CLIENTS curl processes at once, each
# PER_CLIENT requests on one kept-alive connection; one line per request in OUT:
# "status server_ms" where server_ms = time_starttransfer - time_connect: from before the
# request is sent to its first byte, without the TCP connect. (Not - time_pretransfer: curl
# stamps that after sending, so a curl preempted in between measures less than the server took.)
http_times() {
  local out=$1 clients=$2 per=$3 url=$4; shift 4
  local c i args=() pids=()
  for ((i = 0; i < per; i++)); do args+=(-o /dev/null "$url"); done
  : >"$out"
  for ((c = 0; c < clients; c++)); do
    curl -s -m 60 "$@" -w '%{http_code} %{time_connect} %{time_starttransfer}\n' "${args[@]}" >"$out.$c" &
    pids+=($!)
  done
  wait "${pids[@]}"
  for ((c = 0; c < clients; c++)); do awk '{printf "%s %.4f\n", $1, ($3 - $2) * 1000}' "$out.$c" >>"$out"; rm -f "$out.$c"; done
}

# http_median FILE [COLUMN]: median of a column (default 2).
http_median() { awk -v c="${2:-2}" '{print $c}' "$1" | sort -g | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
