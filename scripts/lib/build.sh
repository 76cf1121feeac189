# Shell helpers shared by the shipping scripts (sourced, not run).
# static_build ARCH: the release binary for ARCH-unknown-linux-musl, built the one way every
# script and the Dockerfile build it; prints its path.
# release_build TARGET [CARGO BUILD OPTIONS…]: the same build for any target, with more options
# (scripts/build-router: -Zbuild-std); prints the path. The toolchain is cargo's, so
# RUSTUP_TOOLCHAIN picks another one.

# Crate source paths end up in panic messages. Mapping the registry's location away makes the
# binary ~20 KB smaller and the same bytes whatever the builder's $CARGO_HOME.
remap_rustflags() {
  local d remap=
  cargo fetch --locked >/dev/null
  for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
    remap="$remap${remap:+, }'--remap-path-prefix=$d='"
  done
  echo "[$remap]"
}

static_build() {
  local target=$1-unknown-linux-musl
  rustup target list --installed | grep -x "$target" >/dev/null || rustup target add "$target" >&2
  release_build "$target"
}

release_build() {
  local target=$1
  shift
  cargo build --release --locked --target "$target" --bin ddflare \
    --config "target.$target.rustflags=$(remap_rustflags)" "$@" >&2
  echo "${CARGO_TARGET_DIR:-target}/$target/release/ddflare"
}

# runner_for ARCH: the command prefix that runs an ARCH binary here (qemu-user when foreign;
# qemu names armv7 "arm"). armv7sf runs on a Cortex-A9 without VFP and NEON, as in Broadcom's
# BCM4708/4709 routers: a floating-point instruction would end it with SIGILL.
runner_for() {
  if [ "$1" != "$(uname -m)" ]; then
    case $1 in
      armv7 | armv6) echo qemu-arm-static ;;
      armv7sf) echo qemu-arm-static -cpu cortex-a9,vfp=off,neon=off ;;
      *) echo "qemu-$1-static" ;;
    esac
  fi
}
