"""Is batching worth it for tiny (CIFAR-size, 32x32) images on a CPU? B independent fits side by side.

B copies of the `fast` skip network (4 levels at 32x32), each with its own weights, are stacked with
``torch.func.stack_module_state`` and run with ``vmap`` (BatchNorm on batch statistics, as in the fit), so
one step trains B independent fits exactly (Adam is elementwise). Against: one network at a time. Timed
per image-iteration after 3 warm-up steps, in one process.

    .venv/bin/python benchmarks/batched_tiny.py --batch 16 --threads 1
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from torch.func import functional_call, stack_module_state, vmap

from deepprior.nets import build_net
from deepprior.presets import FAST_NET


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    nets = []
    for i in range(args.batch):
        torch.manual_seed(i)
        net = build_net("skip", in_channels=32, out_channels=3, config=FAST_NET.with_scales(4))
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.track_running_stats, m.running_mean, m.running_var, m.num_batches_tracked = False, None, None, None
        nets.append(net)
    params, buffers = stack_module_state(nets)  # type: ignore[arg-type]
    base = copy.deepcopy(nets[0]).to("meta")

    def one(p, b, z):  # type: ignore[no-untyped-def]
        return functional_call(base, (p, b), (z,))

    z = torch.rand(args.batch, 1, 32, 32, 32)
    y = torch.rand(args.batch, 1, 3, 32, 32)
    opt = torch.optim.Adam(list(params.values()), lr=0.01)

    def batched_step() -> None:
        out = vmap(one)(params, buffers, z)
        loss = ((out - y) ** 2).mean(dim=(1, 2, 3, 4)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    single = nets[0]
    opt1 = torch.optim.Adam(single.parameters(), lr=0.01)

    def single_step() -> None:
        loss = ((single(z[0]) - y[0]) ** 2).mean()
        opt1.zero_grad()
        loss.backward()
        opt1.step()

    times = {}
    for name, step, per in (("batched", batched_step, args.batch), ("one at a time", single_step, 1)):
        for _ in range(3):
            step()
        t = time.perf_counter()
        for _ in range(args.steps):
            step()
        times[name] = (time.perf_counter() - t) / args.steps / per
    for name, v in times.items():
        print(f"{name:14s} {v * 1000:.1f} ms per image-iteration")
    print(f"ratio one-at-a-time / batched: {times['one at a time'] / times['batched']:.2f}x "
          f"(batch {args.batch}, torch threads {torch.get_num_threads()})")


if __name__ == "__main__":
    main()
