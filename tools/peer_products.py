"""The peers' side of tools/bench_gemm: reads siamcl's products (JSON rows with m, n, k, ta,
tb) on stdin and times each with NumPy's float32 matmul (OpenBLAS) or PyTorch's, as
`siamcl bench --products` does: the median of five runs of 8 products, after a warm-up.
Prints the rows with ms and gflops. Run it with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set:
they count only before the import."""
import argparse
import json
import statistics
import sys
import time

import numpy as np


def seconds_per_product(a, b, ta, tb):
    x, y = (a.T if ta else a), (b.T if tb else b)  # transposed views: no copies
    x @ y
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(8):
            x @ y
        runs.append((time.perf_counter() - start) / 8)
    return statistics.median(runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--library", choices=("numpy", "torch"), default="numpy")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (2)")
    args = ap.parse_args()
    convert = lambda x: x  # noqa: E731
    if args.library == "torch":
        import torch
        torch.set_num_threads(args.threads)
        convert = torch.from_numpy
    rng = np.random.default_rng(1)
    rows = json.load(sys.stdin)
    for r in rows:
        m, n, k = r["m"], r["n"], r["k"]
        a = rng.uniform(-1, 1, (k, m) if r["ta"] else (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, k) if r["tb"] else (k, n)).astype(np.float32)
        s = seconds_per_product(convert(a), convert(b), r["ta"], r["tb"])
        r.update(ms=s * 1e3, gflops=2.0 * m * n * k / s * 1e-9)
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()
