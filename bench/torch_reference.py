#!/usr/bin/env python3
"""PyTorch side of the engine benchmarks: the same workloads, definitions and JSON lines as
`dotnet run -c Release --project bench/SharpNas.Bench -- train-step|infer ...`.

    /usr/bin/python3 bench/torch_reference.py train-step --model resnet20 --batch 128 --threads 2 [--steps 10]
    /usr/bin/python3 bench/torch_reference.py infer --model resnet20 --batch 256 --threads 2

Models: CIFAR ResNet-(6n+2) with option-A shortcuts (stride-2 subsampling + zero channel padding), as
SharpNas.Engine.Models.ResNet.Cifar. Training step = forward + cross-entropy + backward + SGD (lr 0.1, Nesterov
momentum 0.9, weight decay 5e-4) on random 32x32x3 images; inference = eval mode under no_grad. Warm-up steps
first, then each step is timed and the median gives images/s.
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.reshapes = stride != 1 or cin != cout
        self.stride, self.extra = stride, cout - cin

    def shortcut(self, x):
        if not self.reshapes:
            return x
        x = x[:, :, ::self.stride, ::self.stride]
        # option A: zero channels split evenly before and after, as the engine's ShortcutA
        return F.pad(x, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, depth, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for s, width in enumerate((16, 32, 64)):
            for b in range(n):
                blocks.append(BasicBlock(cin, width, 2 if s > 0 and b == 0 else 1))
                cin = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.blocks(y)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


def build(name):
    if name == "resnet20":
        return ResNet(20)
    if name == "resnet56":
        return ResNet(56)
    # TODO(lead): nasnet-a-2x16 (NASNet-A CIFAR, N=2, F=16, stem 48, no aux head, no drop-path), matching the engine's.
    raise SystemExit(f"--model must be resnet20 or resnet56, found '{name}'")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["train-step", "infer"])
    parser.add_argument("--model", default="resnet20")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    training = args.command == "train-step"
    batch = args.batch or (128 if training else 256)
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)

    net = build(args.model)
    x = torch.randn(batch, 3, 32, 32)
    labels = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    net.train(training)

    def step():
        if training:
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(net(x), labels)
            loss.backward()
            opt.step()
            assert torch.isfinite(loss)
        else:
            with torch.no_grad():
                out = net(x)
            assert torch.isfinite(out[0, 0])

    for _ in range(args.warmup):
        step()
    seconds = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - t0)
    median = statistics.median(seconds)
    print(json.dumps({
        "workload": f"{args.command}/{args.model}",
        "batch": batch,
        "images_per_sec": round(batch / median, 1),
        "min_images_per_sec": round(batch / max(seconds), 1),
        "max_images_per_sec": round(batch / min(seconds), 1),
        "threads": args.threads,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "kernels": f"torch-{torch.__version__}",
    }))


if __name__ == "__main__":
    main()
