#!/usr/bin/env bash
# Build the packaged desktop app and its release artefacts into dist/:
#   triage-desk/                               the one-folder bundle (PyInstaller):
#                                              `triage-desk` the app, `triage-desk cli ...`
#   triage-desk-VERSION-linux-x86_64.tar.gz    that folder, to unpack anywhere
#   triage-desk_VERSION_amd64.deb              installs it in /opt/triage-desk, with
#                                              `triage-desk` and `triage` on the PATH,
#                                              a desktop entry and the icon
#   *.cdx.json                                 a CycloneDX SBOM for each of the two
#   SHA256SUMS                                 the SHA-256 of every file above
# The build installs packaging/requirements.lock with --require-hashes into a
# venv of its own ($BUILD_VENV, default build/venv, made with $PYTHON, default
# python3), so two builds from one commit bundle the same packages; then the
# project itself. PyInstaller builds for the system it runs on: see
# docs/packaging.md (packaging/older-linux.sh builds for glibc 2.31).
#   packaging/build.sh           build (incremental: reuses build/pyinstaller)
#   packaging/build.sh --clean   build from scratch
#   packaging/build.sh --venv    only make the build venv (numpy's compile: CI
#                                runs it beside the test suites, .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
venv=${BUILD_VENV:-build/venv}
lock=packaging/requirements.lock
about=build/about  # build_info.json, components.json: bundled by the spec
start=$SECONDS

# numpy is compiled from its sdist (hash in the lock) against scipy's OpenBLAS
# (the scipy-openblas32 wheel of the same release), so the bundle carries one
# OpenBLAS, not numpy's 64-bit-integer build beside scipy's (25 MB); with
# vector code for x86-64-v2 (numpy's own baseline) and AVX2 (v3), none for
# AVX-512: half the compile and a smaller numpy. docs/decisions.md says why.
numpy_lock=packaging/numpy-build.lock
NUMPY_OPTIONS="--config-settings=setup-args=-Dblas=scipy-openblas
  --config-settings=setup-args=-Dlapack=scipy-openblas
  --config-settings=setup-args=-Duse-ilp64=false
  --config-settings=setup-args=-Dallow-noblas=false
  --config-settings=setup-args=-Dcpu-dispatch=X86_V3"

# sqlcipher3 is compiled from its sdist too (hash in the lock; it carries
# SQLCipher's amalgamation), linked to the system's libcrypto, the one
# Python's ssl and hashlib load and the bundle ships anyway: its wheel links a
# whole OpenSSL into the module statically (6.5 MB). docs/decisions.md.
# What the venv is made of: a venv made otherwise is made again.
recipe="numpy: $(echo $NUMPY_OPTIONS); sqlcipher3: sdist, shared libcrypto"

# The build venv, (re)installed when a lock or the recipe changed since it
# was made: numpy's build tools first, then the lock with numpy and
# sqlcipher3 built from source.
if [ ! -f "$venv/.installed" ] || [ "$lock" -nt "$venv/.installed" ] ||
  [ "$numpy_lock" -nt "$venv/.installed" ] || [ "$(cat "$venv/.installed")" != "$recipe" ]; then
  # The compiles need a C and C++ compiler and OpenSSL's headers: installed as
  # root on a bare Debian machine (as ./run does Qt's libraries), otherwise named.
  if ! command -v cc >/dev/null 2>&1 || ! command -v c++ >/dev/null 2>&1 ||
    ! echo '#include <openssl/evp.h>' | cc -E - >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing a C and C++ compiler and OpenSSL's headers: build-essential libssl-dev"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        build-essential libssl-dev >/dev/null
    else
      echo "The build compiles numpy and sqlcipher3: install a C and C++ compiler" \
        "and OpenSSL's headers (build-essential libssl-dev) first" >&2
      exit 2
    fi
  fi
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --require-hashes --no-deps -r "$numpy_lock"
  "$venv/bin/python" -c 'import scipy_openblas32; print(scipy_openblas32.get_pkg_config())' \
    >"$venv/scipy-openblas.pc"
  numpy_start=$SECONDS
  tools=$(cd "$venv" && pwd)
  # numpy's lines of the lock (its version and hashes) with the build options
  # on the requirement itself: pip takes a requirement file's packages' build
  # options from their own lines, never from its command line.
  awk -v options="$(echo $NUMPY_OPTIONS)" '/^numpy==/ { sub(/ \\$/, " " options " \\"); keep = 1; print; next }
    keep && /^    --hash/ { print; next } { keep = 0 }' "$lock" >"$venv/numpy.txt"
  # sqlcipher3's lines of the lock, and the rest of it.
  awk '/^sqlcipher3==/ { keep = 1; print; next } keep && /^    / { print; next } { keep = 0 }' \
    "$lock" >"$venv/sqlcipher3.txt"
  awk '/^sqlcipher3==/ { skip = 1; next } skip && /^    / { next } { skip = 0; print }' \
    "$lock" >"$venv/rest.txt"
  # --no-cache-dir: pip's wheel cache keys a build by the sdist alone, not the
  # options, so a numpy built otherwise could be taken from it.
  PATH="$tools/bin:$PATH" PKG_CONFIG="$tools/bin/pkgconf" PKG_CONFIG_PATH="$tools" \
    "$venv/bin/python" -m pip install -q --no-cache-dir --require-hashes --no-deps \
    --no-build-isolation --no-binary numpy -r "$venv/numpy.txt"
  echo "build venv: numpy compiled in $((SECONDS - numpy_start))s"
  # The rest of the lock (numpy is installed already) but sqlcipher3, then
  # sqlcipher3 with the lock's setuptools. Its setup.py fetches a static
  # OpenSSL through conan only when conan is importable, which it is not here:
  # without it, it links -lcrypto, the system's shared one.
  "$venv/bin/python" -m pip install -q --require-hashes --no-deps -r "$venv/rest.txt"
  sqlcipher_start=$SECONDS
  "$venv/bin/python" -m pip install -q --no-cache-dir --require-hashes --no-deps \
    --no-build-isolation --no-binary sqlcipher3 -r "$venv/sqlcipher3.txt"
  echo "build venv: sqlcipher3 compiled in $((SECONDS - sqlcipher_start))s"
  echo "$recipe" >"$venv/.installed"
fi
[ "${1:-}" = "--venv" ] && exit 0
# The project itself: no dependencies (the lock has them), no index.
"$venv/bin/python" -m pip install -q --no-deps --no-build-isolation --no-index .
version=$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("triage"))')

commit=${TRIAGE_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
if [ -z "${TRIAGE_COMMIT:-}" ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit+local-changes"
fi
# Archive timestamps: the commit's time, so the tarball and .deb do not
# change with the hour of the build.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
mkdir -p "$about"
printf '{"version": "%s", "commit": "%s", "built": "%s"}\n' \
  "$version" "$commit" "$(date -u +%Y-%m-%dT%H:%MZ)" >"$about/build_info.json"
"$venv/bin/python" -m triage.ops.about "$about/components.json"

options=(--noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller)
if [ "${1:-}" = "--clean" ]; then options+=(--clean); fi
"$venv/bin/python" -m PyInstaller "${options[@]}" packaging/triage-desk.spec
app=dist/triage-desk/triage-desk
[ -x "$app" ] || [ -x "$app.exe" ] || [ -d dist/Triage.app ] || { echo "build produced no $app" >&2; exit 1; }
bundled=$SECONDS
echo "built dist/triage-desk (triage $version, commit $commit) in $((bundled - start))s," \
  "$(du -sm dist/triage-desk | cut -f1) MB unpacked"
[ "$(uname -s)" = Linux ] || exit 0  # the installers below are Linux's

name=triage-desk-$version-linux-$(uname -m)
deb=triage-desk_${version}_amd64.deb
rm -f dist/*.tar.gz dist/*.deb dist/*.cdx.json dist/SHA256SUMS

# The tarball: unpack anywhere, run triage-desk/triage-desk.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  -C dist -cf - triage-desk | gzip -n -6 >"dist/$name.tar.gz"

# The .deb: /opt/triage-desk, commands on the PATH, desktop entry, icon.
stage=build/deb
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
  "$stage/usr/share/icons/hicolor/256x256/apps" "$stage/usr/share/doc/triage-desk"
cp -a dist/triage-desk "$stage/opt/triage-desk"
ln -s ../../opt/triage-desk/triage-desk "$stage/usr/bin/triage-desk"
cp packaging/linux/triage "$stage/usr/bin/triage"
cp packaging/linux/triage-desk.desktop "$stage/usr/share/applications/"
cp ui/icons/triage.png "$stage/usr/share/icons/hicolor/256x256/apps/triage-desk.png"
cp "$about/components.json" "$stage/usr/share/doc/triage-desk/components.json"
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$(du -sk "$stage" | cut -f1)/" \
  packaging/linux/control >"$stage/DEBIAN/control"
chmod -R u=rwX,go=rX "$stage"
find "$stage" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zgzip --build "$stage" "dist/$deb" >/dev/null

# An SBOM per artefact, then every file's checksum.
for artefact in "$name.tar.gz" "$deb"; do
  "$venv/bin/python" packaging/sbom.py "dist/$artefact" "$about" "$lock" >"dist/$artefact.cdx.json"
done
(cd dist && sha256sum "$name.tar.gz" "$deb" -- *.cdx.json >SHA256SUMS)
echo "made dist/$name.tar.gz ($(du -m "dist/$name.tar.gz" | cut -f1) MB), dist/$deb" \
  "($(du -m "dist/$deb" | cut -f1) MB), their SBOMs and SHA256SUMS in $((SECONDS - bundled))s"
