#!/usr/bin/env bash
# Fuzz the moderation library: `bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]`.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); libFuzzer's flags need RUSTC_BOOTSTRAP on the
# stable toolchain. Crashes land in fuzz/artifacts/<target>/ and fail the run.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(normaliser detectors pipeline moderate_jsonl)
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_FUZZ_TARGET_DIR:-$HOME/.cache/trellis-fuzz-target}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
seeds_of() {
  case "$1" in
    normaliser|detectors) echo seeds/text ;;
    pipeline) echo seeds/pipeline ;;
    moderate_jsonl) echo seeds/jsonl ;;
  esac
}
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "==> fuzzing $target for ${seconds}s"
  # -rss_limit_mb: the pipeline legitimately holds 1 MB texts; -max_len lets inputs grow that far.
  mkdir -p logs
  set +e
  cargo fuzz run -O "$target" "corpus/$target" "$(seeds_of "$target")" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 \
    >"logs/$target.log" 2>&1
  status=$?
  set -e
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "logs/$target.log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "logs/$target.log"
    echo "fuzz target $target failed (exit $status); the input is in fuzz/artifacts/$target/"
    exit 1
  fi
done
