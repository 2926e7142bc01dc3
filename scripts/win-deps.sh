#!/usr/bin/env bash
# Cross-build cshim's C dependencies for Windows (x86_64, mingw-w64) from Debian's own source packages:
# libuv1, protobuf-c, nanopb, jansson, static, into one prefix (include/ lib/). The versions are those of
# the Linux -dev packages installed here, so both builds use the same code; no source comes from anywhere
# but the machine's Debian mirror.
#
# The machine's apt sources are not touched: every `deb` entry they have becomes a `deb-src` line in a
# sources list of our own, with its own lists directory and no package cache, used only by this script.
#
# Usage: scripts/win-deps.sh [PREFIX]   (default build-windows/deps). Idempotent: a package whose stamp
# (name + version) is in the prefix is skipped. No prompts. Needs dpkg-dev, cmake, gcc-mingw-w64-x86-64,
# python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-$root/build-windows/deps}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
work=$prefix/../deps-src
toolchain=$root/cmake/mingw-w64-x86_64.cmake
jobs=${CSHIM_JOBS:-2}
CC=x86_64-w64-mingw32-gcc
AR=x86_64-w64-mingw32-ar

# python3: nanopb's CMakeLists asks for an interpreter even with its generator off.
for tool in "$CC" "$AR" cmake dpkg-source apt-get python3; do
  command -v "$tool" >/dev/null || { echo "win-deps: $tool not found (scripts/deps.sh installs it)" >&2; exit 2; }
done

# The source version matching the installed Linux package (e.g. libuv1-dev -> libuv1 1.44.2-1+deb12u1);
# empty when the -dev package is not installed (apt then takes its candidate).
src_version() {
  dpkg-query -W -f='${db:Status-Status} ${source:Version}' "$1" 2>/dev/null | awk '$1 == "installed" { print $2 }'
}

declare -A DEV=([libuv1]=libuv1-dev [protobuf-c]=libprotobuf-c-dev [nanopb]=libnanopb-dev [jansson]=libjansson-dev)
declare -A VER
todo=()
for src in libuv1 protobuf-c nanopb jansson; do
  VER[$src]=$(src_version "${DEV[$src]}")
  [ -f "$prefix/.built-$src-${VER[$src]:-candidate}" ] || todo+=("$src")
done
if [ "${#todo[@]}" -eq 0 ]; then
  echo "win-deps: up to date in $prefix"
  exit 0
fi

# --- a private deb-src view of the machine's own mirrors ------------------------------------------
mkdir -p "$work/apt/lists/partial"
list=$work/apt/sources.list
"$(dirname "$0")/deb-src-list.sh" > "$list"
[ -s "$list" ] || { echo "win-deps: no Debian mirror found in /etc/apt/sources.list{,.d}" >&2; exit 2; }

APT=(apt-get -q -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$work/apt/lists"
     -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Get::List-Cleanup=0)
echo "win-deps: fetching source indexes ($(wc -l < "$list") deb-src entries, private lists)"
"${APT[@]}" update >"$work/apt/update.log" 2>&1 || { cat "$work/apt/update.log" >&2; exit 1; }

# --- fetch + build each package -------------------------------------------------------------------
fetch() { # fetch <srcpkg> -> prints the unpacked directory
  local src=$1 ver=${VER[$1]} spec=$1 dir
  [ -n "$ver" ] && spec="$src=$ver"
  mkdir -p "$work/$src"
  dir=""
  # Reuse an unpacked tree only if it is that exact Debian version (its .dsc is there; no epoch in the name).
  if [ -n "$ver" ] && [ -f "$work/$src/${src}_${ver#*:}.dsc" ]; then
    dir=$(find "$work/$src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  fi
  if [ -z "$dir" ]; then
    rm -rf "${work:?}/$src"; mkdir -p "$work/$src"
    (cd "$work/$src" && "${APT[@]}" source "$spec" >"$work/$src.fetch.log" 2>&1) \
      || { cat "$work/$src.fetch.log" >&2; exit 1; }
    dir=$(find "$work/$src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  fi
  echo "$dir"
}

cmake_build() { # cmake_build <srcdir> <builddir> <cmake args...>
  local s=$1 b=$2; shift 2
  rm -rf "$b"
  cmake -S "$s" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_SHARED_LIBS=OFF "$@" >"$b.log" 2>&1 \
    && cmake --build "$b" -j"$jobs" >>"$b.log" 2>&1 \
    && cmake --install "$b" >>"$b.log" 2>&1 \
    || { tail -n 40 "$b.log" >&2; echo "win-deps: build failed, see $b.log" >&2; exit 1; }
}

for src in "${todo[@]}"; do
  echo "win-deps: $src ${VER[$src]:-(candidate)}"
  dir=$(fetch "$src")
  case $src in
    libuv1)
      cmake_build "$dir" "$work/build-libuv" -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF
      ;;
    protobuf-c)
      # Only the runtime is needed (protoc-c runs on the host): one file, compiled and archived.
      mkdir -p "$work/build-protobuf-c" "$prefix/include/protobuf-c" "$prefix/lib"
      "$CC" -O2 -g -I"$dir" -c "$dir/protobuf-c/protobuf-c.c" -o "$work/build-protobuf-c/protobuf-c.o"
      rm -f "$prefix/lib/libprotobuf-c.a"
      "$AR" rcs "$prefix/lib/libprotobuf-c.a" "$work/build-protobuf-c/protobuf-c.o"
      cp "$dir/protobuf-c/protobuf-c.h" "$prefix/include/protobuf-c/"
      ;;
    nanopb)
      # PB_ENABLE_MALLOC as Debian builds it; no generator (the host's /usr/bin/nanopb_generator.py is used).
      cmake_build "$dir" "$work/build-nanopb" -Dnanopb_BUILD_GENERATOR=OFF -Dnanopb_BUILD_RUNTIME=ON \
        -Dnanopb_MSVC_STATIC_RUNTIME=OFF -DCMAKE_C_FLAGS=-DPB_ENABLE_MALLOC
      # Its install drops the generator into bin/ anyway; a cross find_program must never pick it.
      rm -f "$prefix/bin/nanopb_generator.py" "$prefix/bin/protoc-gen-nanopb.bat"
      ;;
    jansson)
      cmake_build "$dir" "$work/build-jansson" -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_EXAMPLES=OFF \
        -DJANSSON_BUILD_DOCS=OFF -DUSE_URANDOM=OFF -DJANSSON_BUILD_SHARED_LIBS=OFF
      ;;
  esac
  rm -f "$prefix/.built-$src-"*
  touch "$prefix/.built-$src-${VER[$src]:-candidate}"
done
echo "win-deps: built ${todo[*]} into $prefix"
