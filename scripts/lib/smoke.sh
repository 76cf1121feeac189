# Shell helpers shared by the shipping scripts (sourced, not run; needs emulator.sh and
# build.sh): the checks scripts/build-static and scripts/build-router run on every binary.
# smoke_start WORK: builds the Cloudflare API emulator (host, debug), starts it and the TLS
#   echo, and writes the configs the checks use, all under WORK. smoke_stop: stops both.
# smoke_binary ARCH BIN OUT GOAL [LIMIT]: copies BIN to OUT and checks it (below).
# smoke_sizes GOAL ARCH…: the size table of the binaries checked.
# A failed check is printed and sets smoke_fail=1; the caller decides how to end.

smoke_fail=0
# The checks run as root on root-only scratch files; ddflare would otherwise become
# 65534:65534 first ([process] user). The drop itself is tested by tests/it (secrets.rs).
export DDFLARE_DROP_PRIVILEGES=false
declare -A smoke_size=() smoke_limit=() smoke_goal=()
smoke_work=

smoke_bad() {
  echo "FAIL: $*" >&2
  smoke_fail=1
}

smoke_start() {
  smoke_work=$1
  echo "== build the emulator (host)"
  cargo build --locked -p ddflare-emulator --bin cf-emulator
  mkdir -p "$smoke_work/tls"
  emulator_start "${CARGO_TARGET_DIR:-target}/debug/cf-emulator" "$smoke_work/emulator.log"
  tls_echo_start "$smoke_work/tls"
  # Test addresses are documentation ranges, which ddflare refuses to publish unless told.
  printf '[detect]\nallow_private = true\n' >"$smoke_work/env.toml"
  printf '[cloudflare]\napi_token = "detect-makes-no-api-call-0123456789abcdef"\nca_file = "%s"\n\n[detect]\nallow_private = true\n\n[[record]]\nname = "tls.example.com"\n' "$smoke_work/tls/ca.crt" >"$smoke_work/tls.toml"
  chmod 600 "$smoke_work/tls.toml"
}

smoke_stop() {
  emulator_stop
  tls_echo_stop
}

# smoke_binary ARCH BIN OUT GOAL [LIMIT]: OUT must be statically linked and stripped, and no
# larger than LIMIT bytes when one is given (a miss of GOAL is only printed). Then, run here
# (under qemu-user for a foreign ARCH): --version; `detect` over a TLS 1.3 and a TLS 1.2
# connection (the echo, trusted through `cloudflare.ca_file`); `once` against the emulator,
# which must then hold the A record it created.
smoke_binary() {
  local arch=$1 bin=$2 out=$3 goal=$4 limit=${5:-} kind size mib
  cp "$bin" "$out"
  echo "== check $out"
  kind=$(file -b "$out")
  echo "file: $kind"
  case $kind in
    *"static-pie linked"* | *"statically linked"*) ;;
    *) smoke_bad "$out is not statically linked" ;;
  esac
  case $kind in
    *stripped*) [[ $kind == *"not stripped"* ]] && smoke_bad "$out is not stripped" ;;
    *) smoke_bad "$out: file does not say whether it is stripped" ;;
  esac
  size=$(stat -c %s "$out")
  smoke_size[$arch]=$size smoke_limit[$arch]=$limit smoke_goal[$arch]=$goal
  mib=$(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }')
  echo "size: $size bytes ($mib MiB; goal $goal${limit:+, limit $limit})"
  if [ -n "$limit" ] && [ "$size" -gt "$limit" ]; then
    smoke_bad "$out is $size bytes, over its limit of $limit"
  fi
  [ "$size" -le "$goal" ] || echo "note: $out misses its goal of $goal bytes by $((size - goal)) bytes"

  local runner
  read -ra runner <<<"$(runner_for "$arch")"
  if [ "${#runner[@]}" -gt 0 ] && ! command -v "${runner[0]}" >/dev/null; then
    smoke_bad "${runner[0]} is missing: apt-get install qemu-user-static"
    return 0
  fi
  run() { env -u DDFLARE_CONFIG "${runner[@]}" "$out" "$@"; }

  local version got pair v port name
  version=$(run --version) || smoke_bad "$arch: --version failed"
  echo "--version: $version"

  for pair in "1.3:$tls13_port" "1.2:$tls12_port"; do
    v=${pair%%:*} port=${pair#*:}
    if got=$(DDFLARE_IPV4="url:https://127.0.0.1:$port/" DDFLARE_IPV6=none \
      run --config "$smoke_work/tls.toml" detect 2>&1) && [[ $got == *"203.0.113.9"* ]]; then
      echo "TLS $v: ok ($(grep IPv4 <<<"$got"))"
    else
      smoke_bad "$arch: detect over TLS $v: $got"
    fi
  done

  name=static-$arch.example.com
  if CLOUDFLARE_API_TOKEN=$EMULATOR_TOKEN DDFLARE_API_URL=$api DDFLARE_RECORDS=$name \
    DDFLARE_IPV4=static:203.0.113.7 DDFLARE_IPV6=none DDFLARE_STATE_DIR="$smoke_work/state-$arch" \
    run --config "$smoke_work/env.toml" once >"$smoke_work/once-$arch.log" 2>&1 &&
    emulator_records | grep "\"name\":\"$name\",\"type\":\"A\",\"content\":\"203.0.113.7\"" >/dev/null; then
    echo "once against the emulator: ok ($name A 203.0.113.7 created)"
  else
    cat "$smoke_work/once-$arch.log" >&2
    emulator_records >&2 || true
    smoke_bad "$arch: once against the emulator"
  fi
}

smoke_sizes() {
  local goal=$1 arch
  shift
  echo "== sizes"
  for arch in "$@"; do
    awk -v a="$arch" -v s="${smoke_size[$arch]:-0}" -v g="${smoke_goal[$arch]:-$goal}" -v l="${smoke_limit[$arch]:-}" \
      'BEGIN { printf "%-8s %9d bytes  %.2f MiB  (goal %.2f MiB: %s%s)\n", a, s, s / 1048576, g / 1048576, s <= g ? "met" : "missed", l == "" ? "" : sprintf("; limit %.2f MiB", l / 1048576) }'
  done
}
