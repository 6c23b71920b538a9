"""oneDNN sgemm yardstick for `SharpNas.Bench gemm`: prints one JSON line in the same format.

Usage: python3 bench/torch_gemm.py [--size 1024] [--threads 2] [--reps 20]
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
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n = args.size
    torch.manual_seed(0)
    x = torch.randn(n, n).to_mkldnn()
    w = torch.randn(n, n).to_mkldnn()
    linear = torch._C._nn.mkldnn_linear
    for _ in range(5):
        linear(x, w)
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        linear(x, w)
        times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({
        "workload": "sgemm-onednn",
        "size": n,
        "gflops": round(2.0 * n * n * n / seconds / 1e9, 1),
        "threads": args.threads,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
