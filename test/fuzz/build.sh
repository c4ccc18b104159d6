#!/bin/bash
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Builds the libFuzzer targets test/fuzz/fuzz_*.c with clang and
# -fsanitize=fuzzer,address,undefined against the core sources (src/md/*.c,
# compiled directly, no autotools). Output: out/fuzz-build/ in the repository
# root (or $MD_FUZZ_BUILD), one binary per target. A target whose source
# names "fuzz-httpd-sources: FILE..." also links those files of src/mod_md/
# (compiled against httpd's headers; the target stands in for httpd's
# functions). Usage: build.sh [target...]
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
out=${MD_FUZZ_BUILD:-$top/out/fuzz-build}
CC=${CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz build: $CC not found (scripts/setup installs clang)" >&2; exit 1; }

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-g -O1 -fno-omit-frame-pointer $SAN"
INCS="-I$top/src/md $(apr-1-config --includes --cppflags) $(apu-1-config --includes) \
$(pkg-config --cflags jansson libcurl openssl libidn2)"
LIBS="$(apu-1-config --link-ld) $(apr-1-config --link-ld) \
$(pkg-config --libs jansson libcurl openssl libidn2)"
DEFS="-DMD_FUZZ_OCSP_DATA=\"$top/test/unit/data/ocsp\""

mkdir -p "$out/obj"
objs=()
jobs=$(nproc 2>/dev/null || echo 2)
pids=()
for src in "$top"/src/md/*.c; do
    obj="$out/obj/$(basename "${src%.c}").o"
    objs+=("$obj")
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find "$top/src/md" -name '*.h' -newer "$obj" -print -quit)" ]; then
        # shellcheck disable=SC2086
        $CC $CFLAGS -fsanitize=fuzzer-no-link $INCS -c "$src" -o "$obj" &
        pids+=($!)
        if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
    fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
ar rcs "$out/libmd-fuzz.a" "${objs[@]}"

if [ $# -gt 0 ]; then targets=("$@"); else
    targets=(); for f in "$top"/test/fuzz/fuzz_*.c; do targets+=("$(basename "${f%.c}")"); done
fi
HTTPD_INCS="-I$top/src/mod_md -I$(apxs -q INCLUDEDIR 2>/dev/null || echo /usr/include/apache2)"
for t in "${targets[@]}"; do
    extra=()
    for f in $(sed -n 's/.*fuzz-httpd-sources://p' "$top/test/fuzz/$t.c"); do
        obj="$out/obj/httpd-${f%.c}.o"
        if [ ! -f "$obj" ] || [ -n "$(find "$top/src/mod_md" "$top/src/md" -name '*.[ch]' -newer "$obj" -print -quit)" ]; then
            # shellcheck disable=SC2086
            $CC $CFLAGS -fsanitize=fuzzer-no-link $INCS $HTTPD_INCS -c "$top/src/mod_md/$f" -o "$obj"
        fi
        extra+=("$obj")
    done
    # shellcheck disable=SC2086
    $CC $CFLAGS -fsanitize=fuzzer $DEFS $INCS $HTTPD_INCS -I"$top/test/fuzz" "$top/test/fuzz/$t.c" \
        "${extra[@]}" "$out/libmd-fuzz.a" $LIBS -o "$out/$t"
    echo "fuzz build: $out/$t"
done
