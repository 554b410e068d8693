"""numpy sgemm GFLOPS on Llama-3.2-1B prefill shapes + a memory-bandwidth probe (the ceiling for the Java kernels).

Uses /usr/bin/python3's numpy (Debian numpy 1.24, linked against libblas.so.3 -> the update-alternatives choice,
normally OpenBLAS pthread). Prints the BLAS numpy and torch use and OPENBLAS_*/OMP_* variables.

Usage: /usr/bin/python3 tools/bench_openblas_sgemm.py [--m 128] [--reps 5] [--torch] [--mb 512]
Set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS in the environment to fix the thread count.
GFLOPS = 2*M*K*N / best time (y[M,N] = x[M,K] @ W^T with W [N,K] row-major, as the engine stores it).
"""
import argparse
import os
import time

import numpy as np

SHAPES = [  # (name, K=in, N=out) for Llama-3.2-1B
    ("q_proj/o_proj", 2048, 2048),
    ("k_proj/v_proj", 2048, 512),
    ("gate_proj/up_proj", 2048, 8192),
    ("down_proj", 8192, 2048),
    ("lm_head", 2048, 128256),
]


def blas_info():
    print("numpy", np.__version__)
    for k in sorted(os.environ):
        if k.startswith(("OPENBLAS", "OMP_", "MKL_", "GOTO")):
            print("env %s=%s" % (k, os.environ[k]))
    lib = "/usr/lib/x86_64-linux-gnu/libblas.so.3"
    if os.path.exists(lib):
        print("libblas.so.3 ->", os.path.realpath(lib))
    try:
        import ctypes
        ob = ctypes.CDLL(os.path.realpath(lib))
        ob.openblas_get_config.restype = ctypes.c_char_p
        print("openblas_get_config:", ob.openblas_get_config().decode())
        ob.openblas_get_corename.restype = ctypes.c_char_p
        print("openblas core:", ob.openblas_get_corename().decode(), "threads:", ob.openblas_get_num_threads())
    except (OSError, AttributeError) as e:
        print("not OpenBLAS or no config symbol:", e)


def best_time(fn, reps):
    fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--m", type=int, default=128, help="tokens (rows of x)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--mb", type=int, default=512, help="MiB per array for the bandwidth probe")
    ap.add_argument("--torch", action="store_true", help="also time torch.matmul on the same shapes")
    ap.add_argument("--skip-lm-head", action="store_true")
    args = ap.parse_args()
    blas_info()
    rng = np.random.default_rng(0)
    th = None
    if args.torch:
        import torch as th
        print("torch", th.__version__, "threads", th.get_num_threads())
    for m in sorted({1, args.m}):
        for name, k, n in SHAPES:
            if name == "lm_head" and args.skip_lm_head:
                continue
            x = rng.standard_normal((m, k), dtype=np.float32)
            w = rng.standard_normal((n, k), dtype=np.float32)
            reps = 1 if name == "lm_head" else args.reps
            t = best_time(lambda: x @ w.T, reps)
            flops = 2.0 * m * k * n
            line = "M=%-4d K=%-5d N=%-6d %-18s numpy %7.2f ms %7.1f GFLOPS  (W %.0f MB -> %.1f GB/s)" % (
                m, k, n, name, t * 1e3, flops / t / 1e9, w.nbytes / 1e6, w.nbytes / t / 1e9)
            if th is not None:
                tx, tw = th.from_numpy(x), th.from_numpy(w)
                tt = best_time(lambda: tx @ tw.t(), reps)
                line += " | torch %7.1f GFLOPS" % (flops / tt / 1e9)
            print(line)
            del x, w

    n = args.mb * 1024 * 1024 // 4
    a = np.ones(n, dtype=np.float32)
    b = np.empty_like(a)
    t = best_time(lambda: np.copyto(b, a), 3)
    print("copy  %d MiB: %.1f GB/s (read+write counted)" % (args.mb, 2 * a.nbytes / t / 1e9))
    t = best_time(lambda: a.sum(), 3)
    print("sum   %d MiB: %.1f GB/s (read)" % (args.mb, a.nbytes / t / 1e9))
    t = best_time(lambda: np.dot(a, a), 3)
    print("sdot  %d MiB: %.1f GB/s (read, BLAS)" % (args.mb, a.nbytes / t / 1e9))


if __name__ == "__main__":
    main()
