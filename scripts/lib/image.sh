# Shell helpers shared by the image scripts (sourced, not run): scripts/check-image and
# scripts/check-kubernetes build the image one way, the Dockerfile's `prebuilt` stage
# (FROM scratch, so no base image is pulled and no foreign code runs while building).
# image_build ARCH BIN TAG FORMAT: the image for ARCH (x86_64, aarch64 or armv7) carrying the
#   static binary BIN, tagged TAG, in FORMAT (docker: keeps the HEALTHCHECK; oci: for an OCI
#   index, which has no HEALTHCHECK field).
# image_platform ARCH: the OCI platform of ARCH (linux/amd64, linux/arm64, linux/arm/v7).

buildah=(buildah --storage-driver vfs)
podman=(podman --storage-driver vfs --runtime runc --cgroup-manager=cgroupfs --events-backend=file)

image_platform() {
  case $1 in
    x86_64) echo linux/amd64 ;;
    aarch64) echo linux/arm64 ;;
    armv7) echo linux/arm/v7 ;;
    *) return 1 ;;
  esac
}

image_build() {
  local arch=$1 bin=$2 tag=$3 format=$4 ctx platform
  platform=$(image_platform "$arch") || {
    echo "image_build: unknown arch $arch" >&2
    return 1
  }
  ctx=$(mktemp -d)
  cp "$bin" "$ctx/ddflare"
  "${buildah[@]}" bud --isolation chroot --format "$format" --quiet --build-arg BINARY=prebuilt \
    --platform "$platform" -t "$tag" -f Dockerfile "$ctx" >/dev/null
  rm -rf "$ctx"
}
