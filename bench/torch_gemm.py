"""oneDNN sgemm yardstick for `SharpNas.Bench gemm`: prints one JSON line in the same format.

Usage: python3 bench/torch_gemm.py [--size 1024] [--m M --n N --k K] [--threads 2] [--reps 20]
Times torch._C._nn.mkldnn_linear (oneDNN inner product, i.e. sgemm y = x @ w.T) on mkldnn tensors,
after a warm-up, and reports the median over reps.
"""
import argparse
import json
import resource
import statistics
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--m", type=int)
    parser.add_argument("--n", type=int)
    parser.add_argument("--k", type=int)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    m, n, k = (args.m or args.size), (args.n or args.size), (args.k or args.size)
    torch.manual_seed(0)
    x = torch.randn(m, k).to_mkldnn()
    w = torch.randn(n, k).to_mkldnn()
    linear = torch._C._nn.mkldnn_linear
    for _ in range(5):
        linear(x, w)
    times = []
    inner = max(1, int(2e8 / (2.0 * m * n * k)))
    for _ in range(args.reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            linear(x, w)
        times.append((time.perf_counter() - t0) / inner)
    seconds = statistics.median(times)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({
        "workload": "sgemm-onednn",
        "size": args.size,
        "m": m, "n": n, "k": k,
        "gflops": round(2.0 * m * n * k / seconds / 1e9, 1),
        "threads": args.threads,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
