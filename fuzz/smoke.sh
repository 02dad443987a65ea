#!/usr/bin/env bash
# Fuzz smoke run for CI: builds every cargo-fuzz target of this crate and
# runs each for a few seconds, starting from its committed seed corpus.
#
#   fuzz/smoke.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 20, or $FUZZ_SECONDS); with no TARGET, every
# target that `cargo fuzz list` reports (new targets join automatically).
# New corpus entries go to a temporary directory, so the checkout stays
# clean; a crashing input is written to fuzz/artifacts/<target>/ and the
# script exits non-zero after running the remaining targets.
# Needs a nightly toolchain ($FUZZ_TOOLCHAIN, default "nightly"); installs
# cargo-fuzz if it is missing.
set -euo pipefail

seconds="${1:-${FUZZ_SECONDS:-20}}"
[[ $# -gt 0 ]] && shift
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
cd "$(dirname "$0")"

if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
    echo "usage: $0 [SECONDS] [TARGET...]" >&2
    exit 2
fi
if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
    echo "smoke: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo "+$toolchain" fuzz list)
fi
echo "smoke: building ${targets[*]}" >&2
cargo "+$toolchain" fuzz build

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=()
for target in "${targets[@]}"; do
    seeds="corpus/$target"
    mkdir -p "$scratch/$target"
    corpora=("$scratch/$target")
    [[ -d "$seeds" ]] && corpora+=("$seeds")
    echo "smoke: $target for ${seconds}s" >&2
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a
    # runaway allocation is a failure, not a slow machine.
    if ! timeout --signal=KILL "$((seconds + 120))" \
        cargo "+$toolchain" fuzz run "$target" "${corpora[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 2>"$scratch/$target.log"; then
        failed+=("$target")
        tail -n 60 "$scratch/$target.log" >&2
    else
        grep -E '^Done|stat::number_of_executed_units' "$scratch/$target.log" >&2 || true
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "smoke: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "smoke: all ${#targets[@]} targets ran ${seconds}s without a failure" >&2
