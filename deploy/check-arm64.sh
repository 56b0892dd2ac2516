#!/usr/bin/env bash
# Checks, on an x86-64 Debian box without an arm64 machine or a Docker engine, the part of the
# executor image that differs on linux/arm64: that `npm ci` from this lockfile installs both
# harnesses' arm64 binaries, that their postinstall steps (run by an arm64 Node) put them in
# place, and that both start. The arm64 programs run under qemu-user through binfmt_misc.
#
#   sudo deploy/check-arm64.sh
#
# Needs root: it installs `qemu-user` from Debian, mounts binfmt_misc if it is not mounted and
# registers qemu-aarch64 for the length of the check (removed again at the end). The arm64 Node
# and its libraries come from Debian's arm64 archive into a scratch directory through apt options,
# without adding arm64 to the box's dpkg architectures. Debian 12 ships Node 18 for arm64, not
# the image's Node 20: the postinstall steps only copy a binary, so that is enough for them.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
[ "$(id -u)" = 0 ] || { echo "check-arm64: run as root (binfmt_misc and apt need it)" >&2; exit 2; }
[ "$(uname -m)" = x86_64 ] || { echo "check-arm64: meant for an x86-64 box; on arm64 build the image itself" >&2; exit 2; }

work="$(mktemp -d)"
registered=""
cleanup() {
  [ -n "$registered" ] && echo -1 >/proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '== %s\n' "$*"; }

step "qemu-user from Debian"
command -v qemu-aarch64 >/dev/null || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
}

step "Debian's arm64 Node and its libraries, into a scratch sysroot"
apt=(-o "Dir::State::Lists=$work/lists" -o "Dir::Cache::archives=$work/debs"
  -o "APT::Architectures::=amd64" -o "APT::Architectures::=arm64" -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=root")
mkdir -p "$work/lists/partial" "$work/debs/partial" "$work/sysroot"
apt-get "${apt[@]}" update -qq
(cd "$work/debs" && apt-get "${apt[@]}" download -qq \
  nodejs:arm64 libnode108:arm64 libuv1:arm64 libbrotli1:arm64 libc-ares2:arm64 libicu72:arm64 \
  libssl3:arm64 zlib1g:arm64 libstdc++6:arm64 libgcc-s1:arm64 libnghttp2-14:arm64 libc6:arm64 \
  node-acorn node-cjs-module-lexer node-undici 2>/dev/null)
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/sysroot"; done
sysroot="$work/sysroot"
export QEMU_LD_PREFIX="$sysroot"
export QEMU_SET_ENV="LD_LIBRARY_PATH=$sysroot/usr/lib/aarch64-linux-gnu:$sysroot/lib/aarch64-linux-gnu"

step "binfmt_misc: run aarch64 programs through qemu-aarch64"
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64:' \
    >/proc/sys/fs/binfmt_misc/register
  registered=1
fi
node_arm64="$sysroot/usr/bin/node"
echo "arm64 node: $("$node_arm64" -p 'process.version + " " + process.arch')"

step "npm ci from the lockfile for linux/arm64 (as the Dockerfile runs it)"
mkdir -p "$work/app"
git -C "$repo" archive HEAD package.json package-lock.json schema/package.json \
  control-plane/package.json executor/package.json | tar -x -C "$work/app"
(cd "$work/app" && npm ci --omit=dev --no-audit --no-fund --os=linux --cpu=arm64 --libc=glibc \
  --ignore-scripts >/dev/null)

step "the harnesses' postinstall steps, run by the arm64 Node"
(cd "$work/app/node_modules/@anthropic-ai/claude-code" && "$node_arm64" install.cjs)
(cd "$work/app/node_modules/opencode-ai" && "$node_arm64" postinstall.mjs)

step "both harnesses start"
want() { node -p "require('$repo/package-lock.json').packages['node_modules/$1'].version"; }
fail=0
for h in claude:@anthropic-ai/claude-code opencode:opencode-ai; do
  bin="$work/app/node_modules/.bin/${h%%:*}"
  kind="$(file -bL "$bin")"
  version="$("$bin" --version 2>&1 || true)"
  expected="$(want "${h#*:}")"
  case "$kind" in *"ARM aarch64"*) ;; *) echo "FAIL ${h%%:*}: not an arm64 program: $kind"; fail=1; continue ;; esac
  case "$version" in *"$expected"*) echo "ok   ${h%%:*} $expected (aarch64): $version" ;;
    *) echo "FAIL ${h%%:*}: --version said '$version', the lockfile pins $expected"; fail=1 ;; esac
done
exit "$fail"
