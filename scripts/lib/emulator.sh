# Shell helpers shared by the shipping scripts (sourced, not run).
# emulator_start BIN LOG [ARGS…]: starts the Cloudflare API emulator on a free loopback port
# with one zone (example.com) and one token ($EMULATOR_TOKEN); sets $emu_pid and $api.
# emulator_stop: stops it again (safe to call twice).

EMULATOR_TOKEN=${EMULATOR_TOKEN:-ship-test-token-for-the-local-emulator-only}
emu_pid=
api=

emulator_start() {
  local bin=$1 log=$2
  shift 2
  "$bin" --listen 127.0.0.1:0 --zone example.com --token "$EMULATOR_TOKEN" "$@" >"$log" 2>&1 &
  emu_pid=$!
  api=
  for _ in $(seq 200); do
    api=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$log" | sed -n 1p)
    [ -n "$api" ] && return 0
    kill -0 "$emu_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "the emulator did not start:" >&2
  cat "$log" >&2
  return 1
}

emulator_stop() {
  if [ -n "$emu_pid" ]; then
    kill "$emu_pid" 2>/dev/null || true
    wait "$emu_pid" 2>/dev/null || true
    emu_pid=
  fi
}

# emulator_records: the records the emulator holds for example.com, as JSON.
emulator_records() {
  curl -fsS "${api%/client/v4}/__emulator/records?zone=example.com"
}

# tls_echo_start DIR: a test CA, an ECDSA P-256 and an RSA server certificate for 127.0.0.1
# under DIR, and scripts/lib/tls-echo.py serving on them (TLS 1.3 and TLS 1.2); sets
# $tls_pid, $tls13_port and $tls12_port. DIR/ca.crt is the CA to trust.
tls_pid=
tls_echo_start() {
  local d=$1 here
  here=$(dirname "${BASH_SOURCE[0]}")
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=ddflare-test-ca -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  local kind
  for kind in ec rsa; do
    case $kind in
      ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$kind.key" 2>/dev/null ;;
      rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/$kind.key" 2>/dev/null ;;
    esac
    openssl req -new -key "$d/$kind.key" -subj /CN=127.0.0.1 -out "$d/$kind.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/$kind.ext"
    openssl x509 -req -in "$d/$kind.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
      -days 2 -extfile "$d/$kind.ext" -out "$d/$kind.crt" 2>/dev/null
  done
  python3 "$here/tls-echo.py" "$d" >"$d/ports" 2>"$d/tls-echo.log" &
  tls_pid=$!
  for _ in $(seq 100); do
    read -r tls13_port tls12_port <"$d/ports" 2>/dev/null && [ -n "${tls12_port:-}" ] && return 0
    sleep 0.05
  done
  echo "the TLS echo server did not start:" >&2
  cat "$d/tls-echo.log" >&2
  return 1
}

tls_echo_stop() {
  if [ -n "$tls_pid" ]; then
    kill "$tls_pid" 2>/dev/null || true
    wait "$tls_pid" 2>/dev/null || true
    tls_pid=
  fi
}
