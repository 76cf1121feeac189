#!/bin/bash
# Runs INSIDE the booted Debian container (scripts/check-boot), as root, with /mnt/ship holding
# ddflare.deb and cf-emulator. The network is private: loopback only.
set -euo pipefail

ok() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*" >&2
  journalctl -u ddflare -u ddflare-once -u cf-emulator --no-pager -n 80 >&2 || true
  exit 1
}
# expect CODE CMD…: runs CMD, checks its exit code, leaves its output in $out.
expect() {
  local want=$1 rc=0
  shift
  out=$("$@" 2>&1) || rc=$?
  [ "$rc" = "$want" ] || fail "\`$*\` exited $rc, expected $want:
$out"
}

token=ship-boot-test-token-0123456789abcdefXYZ
systemd-run --quiet --unit=cf-emulator /mnt/ship/cf-emulator --listen 127.0.0.1:8787 \
  --zone example.com --token "$token"
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/8787) 2>/dev/null && break
  sleep 0.1
done
ok "the emulator runs in the container (127.0.0.1:8787)"

echo "== dpkg -i"
expect 0 dpkg -i /mnt/ship/ddflare.deb
grep -q "ddflare is installed but not started" <<<"$out" || fail "postinst said: $out"
[ "$(systemctl is-active ddflare.service || true)" = inactive ] || fail "started before a token was configured"
[ "$(systemctl is-enabled ddflare.service || true)" = disabled ] || fail "enabled on install"
[ "$(stat -c %a /etc/ddflare/ddflare.toml)" = 600 ] || fail "the conffile is not 0600"
ok "installed; not started, not enabled; /etc/ddflare/ddflare.toml is 0600"
expect 0 ddflare --version
ok "$out"

cat >/etc/ddflare/ddflare.toml <<'TOML'
[cloudflare]
api_token_file = "/etc/ddflare/token"
api_url = "http://127.0.0.1:8787/client/v4"

[detect]
ipv4 = ["static:203.0.113.7"]
ipv6 = ["none"]
# A documentation address, published only when told.
allow_private = true

[schedule]
interval = "30s"

[[record]]
name = "home.example.com"
TOML
install -m 600 /dev/null /etc/ddflare/token

echo "== ddflare check, bad token"
echo "not-the-token-0123456789abcdefghijklmn" >/etc/ddflare/token
expect 1 ddflare check
grep -qi "token" <<<"$out" || fail "no word about the token: $out"
echo "$out" | sed 's/^/    /'
ok "a bad token: exit 1 with the message above"

echo "== the service"
echo "$token" >/etc/ddflare/token
expect 0 ddflare check
# Type=notify: `systemctl start` returns once READY=1 came (after the first successful round).
expect 0 timeout 120 systemctl start ddflare.service
[ "$(systemctl show -p ActiveState --value ddflare)" = active ] || fail "not active"
[ "$(systemctl show -p SubState --value ddflare)" = running ] || fail "not running"
status=$(systemctl show -p StatusText --value ddflare)
[[ $status == "203.0.113.7; 1 record(s) in sync" ]] || fail "STATUS= is \"$status\""
ok "active (running) after READY=1; STATUS=$status"
expect 0 ddflare check
grep -q "DNS read ok: A 203.0.113.7" <<<"$out" || fail "the record is not on the emulator: $out"
ok "home.example.com A 203.0.113.7 created on the emulator"
# The config names api_token_file=/etc/ddflare/token (root-only): the dynamic user could not
# read it, so the round succeeding proves the credential was used.
[ -L /var/lib/ddflare ] || fail "/var/lib/ddflare is not DynamicUser's symlink"
for f in state.json heartbeat; do
  [ -f "/var/lib/private/ddflare/$f" ] || fail "no /var/lib/private/ddflare/$f"
done
# DynamicUser= allocates UIDs in 61184..65519 (no libnss-systemd here to name them).
uid=$(stat -c %u /var/lib/private/ddflare/state.json)
[ "$uid" -ge 61184 ] && [ "$uid" -le 65519 ] || fail "state.json belongs to uid $uid"
[ "$(systemctl show -p MainPID --value ddflare | xargs -I{} stat -c %u /proc/{})" = "$uid" ] ||
  fail "the service does not run as the owner of its state"
ok "state.json and heartbeat in /var/lib/private/ddflare, owned by the service's dynamic uid $uid; token read from the credential"
journalctl -u ddflare -o json --no-pager | grep '"MESSAGE":"INFO round done' | grep '"PRIORITY":"6"' >/dev/null ||
  fail "no info line with priority 6 (or it has a timestamp)"
ok "journal: priorities from <N> prefixes, no timestamps in the message"
expect 0 ddflare health
ok "$out"

start=$(date +%s%N)
expect 0 systemctl stop ddflare.service
took=$((($(date +%s%N) - start) / 1000000))
[ "$(systemctl show -p Result --value ddflare)" = success ] || fail "Result is not success"
[ "$(systemctl show -p ExecMainStatus --value ddflare)" = 0 ] || fail "exit status not 0"
journalctl -u ddflare --no-pager | grep "SIGTERM received" >/dev/null || fail "SIGTERM not logged"
ok "stopped cleanly in ${took} ms: exit 0, Result=success"

echo "== the timer's service"
expect 0 timeout 120 systemctl start ddflare-once.service
[ "$(systemctl show -p Result --value ddflare-once)" = success ] || fail "ddflare-once failed"
ok "ddflare-once.service: success"

echo "== dpkg -r, dpkg -P"
expect 0 dpkg -r ddflare
[ ! -e /usr/bin/ddflare ] && [ ! -e /lib/systemd/system/ddflare.service ] || fail "files left after remove"
[ -f /etc/ddflare/ddflare.toml ] || fail "remove deleted the conffile"
expect 0 dpkg -P ddflare
[ ! -e /etc/ddflare/ddflare.toml ] && [ ! -e /var/lib/private/ddflare ] && [ ! -e /var/lib/ddflare ] ||
  fail "files left after purge"
ok "removed, then purged (config and cache gone; /etc/ddflare/token is left to its owner)"
echo "boot test: ok"
