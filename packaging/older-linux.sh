#!/usr/bin/env bash
# Build the release artefacts for older Linux: packaging/build.sh run inside a
# Debian bullseye root (glibc 2.31), so the bundle starts on any Linux with
# glibc 2.31 or newer (Ubuntu 20.04+, Debian 11+, RHEL 9). Needs root,
# debootstrap and Debian's package mirror (the one this machine's apt uses,
# or $DEBIAN_MIRROR).
#
# The root and the OpenSSL and Python built in it are kept in $TRIAGE_BUILD_CACHE
# (default ~/.cache/triage-build) and made again only when what it installs
# changes: a first run takes 20-40 minutes by load (debootstrap, build tools,
# compiling OpenSSL 3 and CPython 3.11 from the release tarballs in Debian's
# source packages, since bullseye has neither), a later one only
# packaging/build.sh's few minutes.
#   packaging/older-linux.sh            build dist/ in the bullseye root
#   packaging/older-linux.sh --smoke    only start dist/triage-desk --smoke there
#   packaging/older-linux.sh --root     only make (or reuse) the root and its Python
#   packaging/older-linux.sh --ready    exit 0 if the root and its Python are made already
set -euo pipefail
cd "$(dirname "$0")/.."
source=$(pwd)

cache=${TRIAGE_BUILD_CACHE:-$HOME/.cache/triage-build}
python=/opt/python3.11/bin/python3.11
suite=bullseye

mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)}
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)

# Build tools and the headers CPython's modules need (OpenSSL's are those of
# the OpenSSL 3 built below: bullseye's libssl-dev is 1.1); the libraries Qt's
# platform plugins load (PyInstaller collects what they link to).
BUILD_DEPS="build-essential dpkg-dev binutils ca-certificates zlib1g-dev libbz2-dev
  liblzma-dev libffi-dev libsqlite3-dev uuid-dev libncurses-dev libreadline-dev"
QT_LIBS="libglib2.0-0 libgl1 libegl1 libfontconfig1 libxkbcommon0 libdbus-1-3 libxcb-cursor0
  libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libx11-xcb1 libxrender1"

# The cached root is made again whenever what goes into it changes.
recipe=$(echo "3 $suite $python openssl3 $BUILD_DEPS $QT_LIBS" | sha256sum | cut -c1-12)
root=$cache/$suite-$recipe

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

bind() {  # bind HOST_PATH PATH_IN_ROOT
  mkdir -p "$root$2"
  mount --bind "$1" "$root$2"
  mounted+=("$root$2")
}

mount_shm() {
  mountpoint -q "$root/dev/shm" && return 0
  mkdir -p "$root/dev/shm"
  mount -t tmpfs -o mode=1777 shm "$root/dev/shm" && mounted+=("$root/dev/shm")
}

in_root() {
  chroot "$root" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

make_root() {
  [ -f "$root/.ready" ] && return 0
  command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }
  [ -n "$mirror" ] || { echo "no Debian mirror found: set DEBIAN_MIRROR" >&2; exit 2; }
  mkdir -p "$cache"
  local start=$SECONDS
  if [ ! -f "$root/.debootstrapped" ]; then
    echo "making a $suite root in $root"
    rm -rf "$root"
    debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$cache/debootstrap.log"
    touch "$root/.debootstrapped"
  fi
  # Python 3.11's source comes from bookworm's source package, built here
  # against bullseye's glibc.
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb-src $mirror bookworm main
EOF
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc" && mounted+=("$root/proc")
  # CPython's configure only builds multiprocessing's SemLock (which joblib
  # needs to run in parallel) when POSIX semaphores work, which needs /dev/shm.
  mount_shm
  in_root apt-get update -qq
  # shellcheck disable=SC2086
  in_root apt-get install -y -qq --no-install-recommends $BUILD_DEPS $QT_LIBS >/dev/null
  in_root apt-get clean
  echo "root ready in $((SECONDS - start))s; compiling OpenSSL 3"
  start=$SECONDS
  # OpenSSL 3.0 (bookworm's, as the host build has it), installed in
  # /usr/local: bullseye's is 1.1, and a Python linked to 1.1 cannot share its
  # libcrypto with psycopg's libpq (OpenSSL 3) nor sqlcipher3, so the bundle
  # would carry both (3.5 MB more). Its configuration and certificates are
  # looked for where Debian's are (/usr/lib/ssl), as before.
  in_root sh -c 'rm -rf /build/openssl && mkdir -p /build/openssl && cd /build/openssl &&
    apt-get source -qq --download-only openssl >/dev/null && tar -xf openssl_3.*.orig.tar.gz &&
    cd openssl-3.*/ &&
    ./Configure --prefix=/usr/local --libdir=lib --openssldir=/usr/lib/ssl shared no-tests \
      linux-x86_64 >/build/openssl/configure.log &&
    make -s -j"$(nproc)" >/build/openssl/make.log 2>&1 && make -s install_sw >/build/openssl/install.log 2>&1 &&
    ldconfig'
  rm -rf "$root/build/openssl"
  in_root sh -c 'test -f /usr/local/include/openssl/evp.h && ldconfig -p | grep -q "libcrypto.so.3 .*/usr/local/lib"'
  echo "OpenSSL compiled in $((SECONDS - start))s; compiling Python 3.11"
  start=$SECONDS
  # Python's own release tarball as Debian ships it (the .orig of the
  # source package): Debian's patches on top assume Debian's build of it.
  in_root sh -c 'rm -rf /build/python && mkdir -p /build/python && cd /build/python &&
    apt-get source -qq --download-only python3.11 >/dev/null && tar -xf python3.11_*.orig.tar.*'
  # Shared libpython (PyInstaller needs it); no PGO/LTO, to keep the build short.
  in_root sh -c 'cd /build/python/Python-3.11.*/ &&
    ./configure -q --prefix=/opt/python3.11 --enable-shared --with-ensurepip=install \
      --with-openssl=/usr/local LDFLAGS=-Wl,-rpath,/opt/python3.11/lib >/dev/null &&
    make -s -j"$(nproc)" >/build/python/make.log 2>&1 && make -s install >/build/python/install.log 2>&1'
  rm -rf "$root/build/python"
  in_root "$python" -c 'import ssl, sqlite3, lzma, bz2, zlib, ctypes, uuid, pyexpat, _multiprocessing
_multiprocessing.SemLock; assert ssl.OPENSSL_VERSION.startswith("OpenSSL 3."), ssl.OPENSSL_VERSION
print("python ok:", ssl.OPENSSL_VERSION)'
  echo "Python compiled in $((SECONDS - start))s"
  touch "$root/.ready"
}

if [ "${1:-}" = "--ready" ]; then [ -f "$root/.ready" ]; exit; fi
make_root
[ "${1:-}" = "--root" ] && exit 0
mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc" && mounted+=("$root/proc"); }
mount_shm
# /sys as a real system has it: joblib counts the physical cores with lscpu,
# which finds none without it (and warns on every model training).
mountpoint -q "$root/sys" || { mount -t sysfs -o ro sys "$root/sys" && mounted+=("$root/sys"); }
bind "$source" /src
mkdir -p "$HOME/.cache/pip"
bind "$HOME/.cache/pip" /root/.cache/pip
if [ "${1:-}" = "--smoke" ]; then
  # The bundle as built, started in a system whose glibc is 2.31.
  in_root sh -c 'ldd --version | head -1 && cd /src && packaging/check.sh --smoke'
  exit
fi
# pip inside the root trusts what this machine's pip trusts (a site's own CA).
cert=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
cp "$cert" "$root/etc/ssl/host-ca-certificates.crt"
# The tree is the host's (bind-mounted): dist/ lands where build.sh always puts
# it; the build's own venv lives in the root, not in the source tree.
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit+local-changes"
in_root sh -c "cd /src && TRIAGE_COMMIT=$commit SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) \
  PIP_CERT=/etc/ssl/host-ca-certificates.crt PYTHON=$python BUILD_VENV=/build/venv \
  packaging/build.sh ${*:-}"
