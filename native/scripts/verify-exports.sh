#!/usr/bin/env bash
# verify-exports.sh [--remove-on-failure] LIBRARY HEADER
#
# Fails (exit 1, listing the differences) unless the IpcNative_* functions LIBRARY exports
# (nm -D --defined-only) are exactly the IpcNative_* prototypes declared in HEADER. Any other
# exported symbol is an error too: the library is built with hidden visibility, so only
# IPC_EXPORT functions may leave it. With --remove-on-failure LIBRARY is deleted on failure,
# so a build that runs this as a post-build step relinks and checks again next time.
set -euo pipefail

remove=0
if [ "${1:-}" = "--remove-on-failure" ]; then
    remove=1
    shift
fi
if [ $# -ne 2 ]; then
    echo "usage: $0 [--remove-on-failure] LIBRARY HEADER" >&2
    exit 2
fi
lib=$1
header=$2
nm_tool=${NM:-nm}

[ -f "$lib" ] || { echo "verify-exports: $lib: no such file" >&2; exit 2; }
[ -f "$header" ] || { echo "verify-exports: $header: no such file" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declared: every "IpcNative_Name(" in the header (prototypes only; comments name no call that way).
grep -oE '\bIpcNative_[A-Za-z0-9_]+[[:space:]]*\(' "$header" \
    | sed -E 's/[[:space:]]*\($//' | LC_ALL=C sort -u >"$tmp/declared"

# Exported: defined dynamic symbols. Undefined and weak references to libc are filtered by --defined-only.
"$nm_tool" -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' | LC_ALL=C sort -u >"$tmp/all"
grep -E '^IpcNative_' "$tmp/all" >"$tmp/exported" || true
grep -vE '^IpcNative_' "$tmp/all" >"$tmp/other" || true

status=0
missing=$(LC_ALL=C comm -23 "$tmp/declared" "$tmp/exported")
extra=$(LC_ALL=C comm -13 "$tmp/declared" "$tmp/exported")
if [ -n "$missing" ]; then
    echo "verify-exports: declared in $(basename "$header") but not exported by $(basename "$lib"):" >&2
    printf '    %s\n' $missing >&2
    status=1
fi
if [ -n "$extra" ]; then
    echo "verify-exports: exported by $(basename "$lib") but not declared in $(basename "$header"):" >&2
    printf '    %s\n' $extra >&2
    status=1
fi
if [ -s "$tmp/other" ]; then
    echo "verify-exports: $(basename "$lib") exports symbols outside the IpcNative_ prefix:" >&2
    sed 's/^/    /' "$tmp/other" >&2
    status=1
fi

if [ "$status" -ne 0 ]; then
    if [ "$remove" -eq 1 ]; then
        rm -f "$lib"
        echo "verify-exports: removed $lib" >&2
    fi
    exit 1
fi
echo "verify-exports: $(wc -l <"$tmp/exported") IpcNative_* exports match $(basename "$header")"
