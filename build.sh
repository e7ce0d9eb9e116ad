#!/usr/bin/env bash
# IpcCore build driver.
#
#   ./build.sh            build everything (Release): native shim, regenerated bindings, C# projects;
#                         the tools are then runnable as bin/myipchub, bin/myipcpub, bin/myipcsub
#   ./build.sh run [ARGS] build, then start the hub in the foreground (ARGS go to myipchub)
#   ./build.sh test       build (bindings are checked, not regenerated) and run every test:
#                         ctest (C unit tests + the same under valgrind memcheck), the bindings
#                         freshness check, dotnet test, and a smoke run of the benchmarks
#   ./build.sh gen        regenerate bindings/Interop.IpcNative.g.cs from native/include/ipccore.h
#   ./build.sh bench [ARGS]  run the BenchmarkDotNet suite (full run; ARGS go to BenchmarkDotNet)
#   ./build.sh clean      remove artifacts/ and the projects' bin/ and obj/
#
# On a fresh Debian 12 machine with the .NET SDK present it installs what else it needs (cmake, gcc,
# valgrind, clang-14, binutils) with apt-get, and only when missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

CONFIG="${CONFIG:-Release}"
NATIVE_BUILD_DIR="$ROOT/artifacts/obj/native"
GENERATED="bindings/Interop.IpcNative.g.cs"
HEADER="native/include/ipccore.h"
LOG_DIR="$ROOT/artifacts/logs"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

# --- prerequisites ---------------------------------------------------------------------------
apt_updated=0
apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "missing packages ($*) and not root: install them with apt-get"
        sudo="sudo"
    fi
    if [ "$apt_updated" -eq 0 ]; then
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
        apt_updated=1
    fi
    say "installing $* (apt-get)"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
        || die "apt-get install $* failed"
}

ensure_tools() {
    local need=()
    command -v cmake >/dev/null 2>&1 || need+=(cmake)
    command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
    command -v make >/dev/null 2>&1 || need+=(make)
    command -v nm >/dev/null 2>&1 || need+=(binutils)
    command -v clang-14 >/dev/null 2>&1 || command -v "${IPCCORE_CLANG:-clang-14}" >/dev/null 2>&1 || need+=(clang-14)
    if [ "${1:-}" = test ]; then
        command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
    fi
    if [ "${#need[@]}" -gt 0 ]; then
        apt_install "${need[@]}"
    fi
    command -v dotnet >/dev/null 2>&1 || die "the .NET SDK 10 (dotnet) is required and is not on PATH"
}

# The tests list the message-queue namespace to prove nothing is left behind; Linux only shows it
# where the mqueue filesystem is mounted (conventionally /dev/mqueue).
ensure_mqueue_mount() {
    if ! grep -qs ' /dev/mqueue mqueue ' /proc/mounts; then
        if [ "$(id -u)" -eq 0 ]; then
            mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue 2>/dev/null \
                || echo "build.sh: note: could not mount the mqueue filesystem on /dev/mqueue; mq leak checks are skipped" >&2
        else
            echo "build.sh: note: /dev/mqueue is not mounted; mq leak checks are skipped" >&2
        fi
    fi
}

# --- steps -----------------------------------------------------------------------------------
# $1 = ON registers the valgrind memcheck runs of the C tests (needs valgrind), OFF builds without.
build_native() {
    say "native shim (CMake, RelWithDebInfo)"
    cmake -S "$ROOT" -B "$NATIVE_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIPCCORE_MEMCHECK="${1:-OFF}" >/dev/null
    cmake --build "$NATIVE_BUILD_DIR" -j "$(nproc)"
}

gen_bindings() {
    say "bindings: $HEADER -> $GENERATED"
    dotnet run --project bindings/gen/IpcCore.BindGen.csproj -c "$CONFIG" -- "$HEADER" "$GENERATED"
}

check_bindings() {
    say "bindings freshness check"
    dotnet run --project bindings/gen/IpcCore.BindGen.csproj -c "$CONFIG" -- "$HEADER" "$GENERATED" --check
}

TOOLS=(myipchub myipcpub myipcsub myipcbench myipcfd)

build_managed() {
    say "managed projects ($CONFIG)"
    dotnet build IpcCore.sln -c "$CONFIG" -nologo -clp:ErrorsOnly -warnaserror
    link_tools
}

# bin/<tool> -> the tool's apphost in its build output (the apphost finds its assemblies beside itself).
link_tools() {
    mkdir -p "$ROOT/bin"
    local tool target
    for tool in "${TOOLS[@]}"; do
        target="managed/$tool/bin/$CONFIG/net10.0/$tool"
        if [ -x "$ROOT/$target" ]; then
            ln -sfn "../$target" "$ROOT/bin/$tool"
        fi
    done
}

# Counters for the closing summary line.
total_passed=0
total_failed=0
failures=()

run_ctest() {
    say "C tests of the shim (ctest: unit and valgrind memcheck)"
    mkdir -p "$LOG_DIR"
    local ok=1 line
    if ! ctest --test-dir "$NATIVE_BUILD_DIR" --output-on-failure -j "$(nproc)" 2>&1 | tee "$LOG_DIR/ctest.log"; then
        ok=0
    fi
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$LOG_DIR/ctest.log" | tail -n 1 || true)
    if [[ "$line" =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
        total_failed=$((total_failed + BASH_REMATCH[1]))
        total_passed=$((total_passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
    else
        ok=0
    fi
    [ "$ok" -eq 1 ] || failures+=("ctest")
}

run_dotnet_tests() {
    say "NUnit tests (dotnet test)"
    mkdir -p "$LOG_DIR"
    local ok=1 p f
    # Tests SIGKILL .NET processes (hubs, clients); without this each would leave its runtime's debugger
    # pipes and diagnostics socket in /tmp (clr-debug-pipe-*, dotnet-diagnostic-*), which only a clean exit removes.
    if ! DOTNET_EnableDiagnostics=0 dotnet test IpcCore.sln -c "$CONFIG" --no-build --nologo --logger "console;verbosity=normal" \
        >"$LOG_DIR/dotnet-test.log" 2>&1; then
        ok=0
    fi
    # The per-test "Passed" lines are in the log; show failures, skips and the per-assembly totals.
    grep -vE '^\s*Passed ' "$LOG_DIR/dotnet-test.log" \
        | grep -E '^\s*(Failed|Skipped) |^Total tests|^ +(Passed|Failed|Skipped): |error|Error Message' || true
    if [ "$ok" -eq 0 ]; then
        tail -n 60 "$LOG_DIR/dotnet-test.log"
    fi
    # Each test assembly ends with "Total tests: N", then "Passed: N" and, if any, "Failed: N".
    read -r p f < <(awk '/^ +Passed: +[0-9]+$/ { p += $2 } /^ +Failed: +[0-9]+$/ { f += $2 } END { print p + 0, f + 0 }' \
        "$LOG_DIR/dotnet-test.log")
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
    grep -qE '^Total tests: +[0-9]+' "$LOG_DIR/dotnet-test.log" || ok=0
    [ "$ok" -eq 1 ] || failures+=("dotnet test")
}

run_bench_smoke() {
    say "benchmarks smoke run (BenchmarkDotNet dry job, in-process)"
    mkdir -p "$LOG_DIR"
    if dotnet run --project bench/IpcCore.Benchmarks/IpcCore.Benchmarks.csproj -c "$CONFIG" --no-build -- \
        --filter '*' --job Dry --inProcess --artifacts "$ROOT/artifacts/bench-smoke" >"$LOG_DIR/bench-smoke.log" 2>&1; then
        grep -E '^\| ' "$LOG_DIR/bench-smoke.log" | head -n 20 || true
        total_passed=$((total_passed + 1))
    else
        tail -n 40 "$LOG_DIR/bench-smoke.log"
        total_failed=$((total_failed + 1))
        failures+=("bench smoke")
    fi
}

cmd="${1:-build}"
[ $# -gt 0 ] && shift
case "$cmd" in
    build)
        ensure_tools
        build_native
        gen_bindings
        build_managed
        say "built: artifacts/native/libipccore.so and the C# projects ($CONFIG)"
        ;;
    gen)
        ensure_tools
        gen_bindings
        ;;
    test)
        ensure_tools test
        ensure_mqueue_mount
        build_native ON
        # Tests must see the checked-in bindings exactly as committed: check, never regenerate here.
        if ! check_bindings; then
            failures+=("bindings freshness")
            total_failed=$((total_failed + 1))
        else
            total_passed=$((total_passed + 1))
        fi
        build_managed
        run_ctest
        run_dotnet_tests
        run_bench_smoke
        echo
        if [ "${#failures[@]}" -gt 0 ]; then
            echo "FAILED: ${failures[*]}"
        fi
        echo "total: $total_passed passed, $total_failed failed"
        [ "${#failures[@]}" -eq 0 ] && [ "$total_failed" -eq 0 ]
        ;;
    run)
        ensure_tools
        build_native
        gen_bindings
        build_managed
        [ -x bin/myipchub ] || die "bin/myipchub was not built"
        exec bin/myipchub "$@"
        ;;
    bench)
        ensure_tools
        build_native
        build_managed
        dotnet run --project bench/IpcCore.Benchmarks/IpcCore.Benchmarks.csproj -c Release --no-build -- "$@"
        ;;
    clean)
        rm -rf artifacts bin
        find . -type d \( -name bin -o -name obj \) -not -path './.git/*' -prune -exec rm -rf {} +
        ;;
    *)
        die "unknown command '$cmd' (use: build, test, run, gen, bench, clean)"
        ;;
esac
