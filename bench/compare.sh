#!/usr/bin/env bash
# Runs SharpNas, ONNX Runtime (inference only: SharpNas's exported graph) and PyTorch on the same workloads,
# interleaved (ours, ORT, PyTorch, ours, …) so all see the same machine load, and prints every run, then per
# workload the medians, ranges and the ratios of medians (SharpNas / other: above 1 means SharpNas is faster).
#
#   bench/compare.sh [runs=5] [workload ...]
#   workloads: train20 (ResNet-20 training, batch 128), infer20 (ResNet-20 inference, batch 256),
#              train56 (ResNet-56 training, batch 128), trainnas (NASNet-A 2 @ 384 training, batch 128),
#              infernas (NASNet-A 2 @ 384 inference, batch 256); default: all five
# Environment: THREADS (default 2), STEPS (timed steps per run, default 10), PYTHON (default /usr/bin/python3),
# OURS (a SharpNas.Bench binary to use instead of building bench/SharpNas.Bench, e.g. a copy that rebuilds won't touch).
# PyTorch columns read n/a when $PYTHON cannot import torch.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
workloads=("$@")
[ ${#workloads[@]} -eq 0 ] && workloads=(train20 infer20 train56 trainnas infernas)
threads=${THREADS:-2}
steps=${STEPS:-10}
python=${PYTHON:-/usr/bin/python3}

ours=${OURS:-}
if [ -z "$ours" ]; then
  dotnet build bench/SharpNas.Bench -c Release 2>&1 | grep -E " error |rror\(s\)" | grep -v " 0 Error" || true
  ours=bench/SharpNas.Bench/bin/Release/net10.0/SharpNas.Bench
fi
have_torch=0
"$python" -c "import torch" 2>/dev/null && have_torch=1
[ $have_torch -eq 1 ] || echo "note: $python cannot import torch: PyTorch columns are n/a" >&2

args_of() {
  case "$1" in
    train20) echo "train-step --model resnet20 --batch 128" ;;
    infer20) echo "infer --model resnet20 --batch 256" ;;
    train56) echo "train-step --model resnet56 --batch 128" ;;
    trainnas) echo "train-step --model nasnet-a-2x16 --batch 128" ;;
    infernas) echo "infer --model nasnet-a-2x16 --batch 256" ;;
    *) echo "unknown workload '$1' (train20, infer20, train56, trainnas, infernas)" >&2; exit 2 ;;
  esac
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for w in "${workloads[@]}"; do
  a=$(args_of "$w")
  for r in $(seq 1 "$runs"); do
    s=$($ours $a --threads "$threads" --steps "$steps")
    echo "$w run $r sharpnas $s"
    printf '%s\tsharpnas\t%s\n' "$w" "$s" >> "$out"
    if [[ $a == infer* ]]; then
      o=$($ours $a --engine ort --threads "$threads" --steps "$steps")
      echo "$w run $r ort      $o"
      printf '%s\tort\t%s\n' "$w" "$o" >> "$out"
    fi
    if [ $have_torch -eq 1 ]; then
      t=$("$python" bench/torch_reference.py $a --threads "$threads" --steps "$steps")
      echo "$w run $r pytorch  $t"
      printf '%s\tpytorch\t%s\n' "$w" "$t" >> "$out"
    fi
  done
done

"$python" - "$out" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    w, who, js = line.rstrip("\n").split("\t", 2)
    rows.setdefault(w, {}).setdefault(who, []).append(json.loads(js))
def cell(by, who):
    if who not in by: return "n/a", None
    v = [d["images_per_sec"] for d in by[who]]
    m = statistics.median(v)
    return f"{m:8.1f} [{min(v):.1f}–{max(v):.1f}]", m
print()
print(f"{'workload':<10} {'SharpNas img/s median [range]':<30} {'ONNX Runtime img/s':<30} {'PyTorch img/s':<30} {'ours/ORT':>8} {'ours/torch':>10}  kernels")
for w, by in rows.items():
    (s, sm), (o, om), (t, tm) = cell(by, "sharpnas"), cell(by, "ort"), cell(by, "pytorch")
    ro = f"{sm/om:8.2f}" if om else f"{'n/a':>8}"
    rt = f"{sm/tm:10.2f}" if tm else f"{'n/a':>10}"
    print(f"{w:<10} {s:<30} {o:<30} {t:<30} {ro} {rt}  {by['sharpnas'][0]['kernels']}")
PY
