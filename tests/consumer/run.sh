#!/bin/sh
# The install test: installs a built tree into a fresh prefix, then builds
# and runs tests/consumer against it as an outside project would, on both
# backends: with find_package (static and shared libraries) and with
# pkg-config (shared, and static with --static), and compiles every
# installed public header next to <poll.h>.
#   run.sh BUILD_DIR WORK_DIR CMAKE CC GENERATOR [CFLAGS]
# CFLAGS are the main build's (sanitizer builds need them at link too).
set -eu
build=$1 work=$2 cmake=$3 cc=$4 gen=$5 cflags=${6:-}
here=$(cd "$(dirname "$0")" && pwd)
prefix=$work/prefix

rm -rf "$work"
mkdir -p "$work"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"
libdir=$(dirname "$(find "$prefix" -name greenfut-stackful.pc)")/..
PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_PATH

# Every installed public header, after the system's <poll.h>.
hdrs=$work/all_headers.c
{
    echo '#include <poll.h>'
    for h in "$prefix"/include/greenfut/*.h; do
        # rt_stackful.h and rt_stackless.h are halves of rt.h, reached
        # through it (each refuses to be included on its own).
        case $h in */rt_stackful.h | */rt_stackless.h) continue ;; esac
        echo "#include <greenfut/$(basename "$h")>"
    done
    echo 'int main(void) { struct pollfd p = {.fd = -1}; return p.fd + 1; }'
} >"$hdrs"

for b in stackful stackless; do
    for shared in OFF ON; do
        d=$work/cmake-$b-$shared
        "$cmake" -S "$here" -B "$d" -G "$gen" -DCMAKE_PREFIX_PATH="$prefix" \
            -DGREENFUT_BACKEND=$b -DGREENFUT_SHARED=$shared \
            -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$cflags" \
            -DCMAKE_EXE_LINKER_FLAGS="$cflags" >"$d.log"
        "$cmake" --build "$d" >>"$d.log"
        "$d/consumer"
    done

    pc=greenfut-$b
    # shellcheck disable=SC2046 # pkg-config's output is a list of words
    "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags \
        $(pkg-config --cflags $pc) -o "$work/hdrs-$b" "$hdrs"
    "$work/hdrs-$b"
    # shellcheck disable=SC2046
    "$cc" -std=c11 $cflags $(pkg-config --cflags $pc) \
        -o "$work/pc-$b" "$here/consumer.c" $(pkg-config --libs $pc) \
        -Wl,-rpath,"$libdir"
    "$work/pc-$b"
    # The static libraries, with what pkg-config --static adds for them.
    libs=$(pkg-config --static --libs $pc | sed 's/-l\(greenfut_[a-z_]*\)/-l:lib\1.a/g')
    # shellcheck disable=SC2086
    "$cc" -std=c11 $cflags $(pkg-config --cflags $pc) \
        -o "$work/pc-static-$b" "$here/consumer.c" $libs
    "$work/pc-static-$b"
    if ldd "$work/pc-static-$b" | grep -q greenfut; then
        echo "run.sh: pc-static-$b links a shared greenfut" >&2
        exit 1
    fi
done
echo "install: ok"
