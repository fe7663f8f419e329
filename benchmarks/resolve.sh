#!/usr/bin/env bash
# Resolve-only benchmark (issue 3): pipwise --dry-run vs pip --dry-run vs uv pip install --dry-run,
# warm caches, a ~100-package workload from a local file index, runs interleaved (A B C A B C ...),
# medians and per-pair ratios. Nothing is installed by the timed commands.
#
#   benchmarks/resolve.sh [INDEX_URL]        (default: file:///opt/pypi/simple)
#   RUNS=9 BENCH_DIR=/tmp/pipwise-bench PYTHON=python3.11 PACKAGES="..." benchmarks/resolve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
INDEX=${1:-file:///opt/pypi/simple}
PY=${PYTHON:-python3.11}
PACKAGES=${PACKAGES:-jupyterlab pandas matplotlib scikit-learn}
B=${BENCH_DIR:-/tmp/pipwise-bench-resolve}
RUNS=${RUNS:-9}
export PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_DISABLE_PIP_VERSION_CHECK=1

mkdir -p "$B"
[ -x "$B/pipwise/bin/pipwise" ] || { "$PY" -m venv "$B/pipwise" && "$B/pipwise/bin/pip" install -q .; }
[ -x "$B/pip/bin/pip" ] || "$PY" -m venv "$B/pip"
[ -x "$B/uv/bin/uv" ] || { "$PY" -m venv "$B/uv" && "$B/uv/bin/pip" install -q uv; }
[ -x "$B/target/bin/python" ] || "$B/pipwise/bin/pipwise" venv "$B/target" --python "$PY" >/dev/null 2>&1

run() {
  sync
  local start end
  start=$(date +%s.%N)
  case $1 in
    pipwise) PIPWISE_CACHE_DIR="$B/cache-pipwise" "$B/pipwise/bin/pipwise" install --dry-run \
               --python "$B/target" -i "$INDEX" $PACKAGES >/dev/null 2>"$B/last-pipwise.log" ;;
    pip) "$B/pip/bin/pip" install --dry-run --ignore-installed --cache-dir "$B/cache-pip" \
           -i "$INDEX" $PACKAGES >/dev/null 2>"$B/last-pip.log" ;;
    uv) UV_CACHE_DIR="$B/cache-uv" "$B/uv/bin/uv" pip install --dry-run --no-config \
          --python "$B/target/bin/python" --index-url "$INDEX" $PACKAGES >/dev/null 2>"$B/last-uv.log" ;;
  esac
  end=$(date +%s.%N)
  echo "$1 $start $end"
}

for tool in pipwise pip uv; do run $tool >/dev/null; done   # warm every cache once, untimed
for _ in $(seq "$RUNS"); do for tool in pipwise pip uv; do run $tool; done; done > "$B/times.txt"
python3 - "$B/times.txt" <<'PY'
import collections, statistics, sys
times = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tool, start, end = line.split()
    times[tool].append(float(end) - float(start))
for tool, values in times.items():
    print(f"{tool:8} median {statistics.median(values):.3f}s  runs: {' '.join(f'{v:.3f}' for v in values)}")
pw, pip, uv = times["pipwise"], times["pip"], times["uv"]
print(f"pip / pipwise per pair, median: {statistics.median(b / a for a, b in zip(pw, pip)):.2f}x")
print(f"pipwise / uv per pair, median:  {statistics.median(a / c for a, c in zip(pw, uv)):.2f}x")
PY
