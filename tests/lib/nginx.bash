# nginx as a test or benchmark peer: one config writer for every place that starts one
# (tests/integration/http_common.bash, run_fidelity_nginx.sh, bench/http/*.sh). Plain bash,
# no other helper needed, so benches can source it too.
#
# nginx_conf FILE DIR WORKERS BLOCKS: a config with everything nginx writes (pid, error log,
# temp paths) inside DIR, WORKERS worker processes, and BLOCKS (server/upstream blocks and any
# http-level lines) in its http {}. Access logging is off unless BLOCKS turns it on.
nginx_conf() {
  local file=$1 dir=$2 workers=$3 blocks=$4 log="access_log off;"
  # "access_log off" would cancel every access_log of the same level, BLOCKS' own too.
  [[ $blocks == *access_log* ]] && log=""
  cat >"$file" <<EOT
daemon off;
worker_processes $workers;
pid $dir/$(basename "$file" .conf).pid;
error_log $dir/$(basename "$file" .conf).error.log;
events { worker_connections 4096; }
http {
  $log
  default_type text/plain;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 1000000;
  $blocks
}
EOT
}
