#!/usr/bin/env python3
"""PyTorch CPU (Debian python3-torch) on conv_bench's convolution: a
ResNet-style 3x3 convolution, N=8, 56x56, 64 -> 64 channels, padding 1,
float32, the same thread count; forward, and forward + backward with respect
to input and weight (what uma's value_and_grad computes). PyTorch runs NCHW
(its native CPU layout, mkldnn when built with it), uma NHWC (MLX's).
Prints median ms in conv_bench's table form so the two can be set side by
side in one run:

    UMA_NUM_THREADS=2 ./build/bin/conv_bench --threads 2 --reps 9
    /usr/bin/python3 bench/conv_torch.py --threads 2 --reps 9
"""
import argparse
import statistics
import time

import torch


def median_ms(reps, fn):
    fn()  # warm-up: allocations, algorithm choice
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    n, h, w, c, k = 8, 56, 56, 64, 3
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, c, h, w, generator=g)
    wt = torch.randn(c, c, k, k, generator=g)
    flops = 2.0 * n * h * w * c * c * k * k

    with torch.no_grad():
        fwd = median_ms(a.reps, lambda: torch.nn.functional.conv2d(x, wt, padding=1))

    xg = x.clone().requires_grad_(True)
    wg = wt.clone().requires_grad_(True)

    def value_and_grad():
        xg.grad = None
        wg.grad = None
        y = torch.nn.functional.conv2d(xg, wg, padding=1).sum()
        y.backward()

    bwd = median_ms(a.reps, value_and_grad)
    print(f"torch {torch.__version__}, conv2d 3x3, N={n}, {h}x{w}, {c}->{c} channels, float32, "
          f"{torch.get_num_threads()} threads, mkldnn {torch.backends.mkldnn.is_available()}")
    print("| pass | ms | GFLOP/s |\n|---|---|---|")
    print(f"| forward | {fwd:.2f} | {flops / fwd * 1e-6:.1f} |")
    print(f"| value_and_grad (x, w) | {bwd:.2f} | {3 * flops / bwd * 1e-6:.1f} |")


if __name__ == "__main__":
    main()
