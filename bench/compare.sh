#!/usr/bin/env bash
# Runs SharpNas and PyTorch on the same workloads, interleaved (ours, theirs, ours, …) so both see the same
# machine load, and prints every pair, then per workload the medians, ranges and the ratio of medians.
#
#   bench/compare.sh [runs=5] [workload ...]
#   workloads: train20 (ResNet-20 training, batch 128), infer20 (ResNet-20 inference, batch 256),
#              train56 (ResNet-56 training, batch 128), trainnas (NASNet-A 2 @ 384 training, batch 128);
#              default: all four
# Environment: THREADS (default 2), STEPS (timed steps per run, default 10), PYTHON (default /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
workloads=("$@")
[ ${#workloads[@]} -eq 0 ] && workloads=(train20 infer20 train56 trainnas)
threads=${THREADS:-2}
steps=${STEPS:-10}
python=${PYTHON:-/usr/bin/python3}

dotnet build bench/SharpNas.Bench -c Release 2>&1 | grep -E " error |rror\(s\)" | grep -v " 0 Error" || true
ours=bench/SharpNas.Bench/bin/Release/net10.0/SharpNas.Bench

args_of() {
  case "$1" in
    train20) echo "train-step --model resnet20 --batch 128" ;;
    infer20) echo "infer --model resnet20 --batch 256" ;;
    train56) echo "train-step --model resnet56 --batch 128" ;;
    trainnas) echo "train-step --model nasnet-a-2x16 --batch 128" ;;
    *) echo "unknown workload '$1' (train20, infer20, train56, trainnas)" >&2; exit 2 ;;
  esac
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for w in "${workloads[@]}"; do
  a=$(args_of "$w")
  for r in $(seq 1 "$runs"); do
    s=$($ours $a --threads "$threads" --steps "$steps")
    t=$($python bench/torch_reference.py $a --threads "$threads" --steps "$steps")
    echo "$w run $r sharpnas $s"
    echo "$w run $r pytorch  $t"
    printf '%s\tsharpnas\t%s\n%s\tpytorch\t%s\n' "$w" "$s" "$w" "$t" >> "$out"
  done
done

$python - "$out" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    w, who, js = line.rstrip("\n").split("\t", 2)
    d = json.loads(js)
    rows.setdefault(w, {}).setdefault(who, []).append(d)
print()
print(f"{'workload':<10} {'SharpNas img/s median [range]':<34} {'PyTorch img/s median [range]':<34} {'ratio':>6}  {'RSS MiB ours/torch':>18}  kernels")
for w, by in rows.items():
    s = [d["images_per_sec"] for d in by["sharpnas"]]
    t = [d["images_per_sec"] for d in by["pytorch"]]
    sm, tm = statistics.median(s), statistics.median(t)
    rs = max(d["peak_rss_mb"] for d in by["sharpnas"]); rt = max(d["peak_rss_mb"] for d in by["pytorch"])
    print(f"{w:<10} {sm:>8.1f} [{min(s):.1f}–{max(s):.1f}]{'':<14} {tm:>8.1f} [{min(t):.1f}–{max(t):.1f}]{'':<14} {sm/tm:>6.2f}  {rs:>8.0f}/{rt:<8.0f}  {by['sharpnas'][0]['kernels']}")
PY
