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


# ---- NASNet-A CIFAR (docs/nasnet.md "The network"): N normal cells per stage with F, 2F, 4F filters, reduction
# cells between stages, stem 3x3 conv to 3F + BN, no aux head, no drop-path. Cell k reads cell k-1 (h0) and k-2 (h1).

def relu_conv_bn(cin, cout, k=1, stride=1, relu=True):
    layers = [nn.ReLU()] if relu else []
    return nn.Sequential(*layers, nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


class SepConv(nn.Module):
    """2 x [ReLU, depthwise k x k, pointwise 1x1, BN]; the stride on the first depthwise only."""

    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(), nn.Conv2d(cin, cin, k, stride, k // 2, groups=cin, bias=False), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(), nn.Conv2d(cout, cout, k, 1, k // 2, groups=cout, bias=False), nn.Conv2d(cout, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.body(x)


class Pool(nn.Module):
    """3x3 average (padding not counted) or max pool; then 1x1 conv + BN when the channels are not F."""

    def __init__(self, kind, cin, cout, stride):
        super().__init__()
        self.pool = nn.AvgPool2d(3, stride, 1, count_include_pad=False) if kind == "avg" else nn.MaxPool2d(3, stride, 1)
        self.project = relu_conv_bn(cin, cout, relu=False) if cin != cout else nn.Identity()

    def forward(self, x):
        return self.project(self.pool(x))


class FactorizedReduction(nn.Module):
    """(ReLU); 1x1 stride-2 convs on pixels (2i, 2j) -> floor(F/2) and (2i+1, 2j+1) -> ceil(F/2); concat; BN."""

    def __init__(self, cin, cout, relu=True):
        super().__init__()
        self.relu = relu
        self.path_1 = nn.Conv2d(cin, cout // 2, 1, 2, bias=False)
        self.path_2 = nn.Conv2d(cin, cout - cout // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        if self.relu:
            x = F.relu(x)
        shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.path_1(x), self.path_2(shifted)], 1))


def nasnet_op(name, cin, cout, stride):
    if name == "identity":
        return relu_conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()
    if name.startswith("sep"):
        return SepConv(cin, cout, int(name[-1]), stride)
    return Pool(name, cin, cout, stride)


# (input 1, op 1, input 2, op 2) per block, states 0 = h0, 1 = h1, 2 + b = block b; all combines add; output states.
NASNET_A_NORMAL = ([(0, "sep5", 1, "sep3"), (1, "sep5", 1, "sep3"), (0, "avg", 1, "identity"), (1, "avg", 1, "avg"),
                    (0, "sep3", 0, "identity")], [1, 2, 3, 4, 5, 6])
NASNET_A_REDUCTION = ([(0, "sep5", 1, "sep7"), (0, "max", 1, "sep7"), (0, "avg", 1, "sep5"), (3, "identity", 2, "avg"),
                       (2, "sep3", 0, "max")], [3, 4, 5, 6])


class Cell(nn.Module):
    def __init__(self, spec, reduction, c0, c1, h1_double, h1_raw, f):
        super().__init__()
        blocks, self.outputs = spec
        self.h0_adjust = relu_conv_bn(c0, f)
        if h1_raw:
            self.h1_adjust, c1_adj = nn.Identity(), c1      # the first cell sees the stem output as is
        elif h1_double:
            self.h1_adjust, c1_adj = FactorizedReduction(c1, f), f
        else:
            self.h1_adjust, c1_adj = (relu_conv_bn(c1, f) if c1 != f else nn.Identity()), f
        widths = [f, c1_adj]
        self.wiring, ops = [], []
        for i1, op1, i2, op2 in blocks:
            for i, op in ((i1, op1), (i2, op2)):
                stride = 2 if reduction and i < 2 else 1
                ops.append(nasnet_op(op, widths[i], f, stride))
            self.wiring.append((i1, i2))
            widths.append(f)
        self.ops = nn.ModuleList(ops)
        # Output states not at the last block's width (the first cell's raw h1) get a 1x1 conv + BN.
        self.output_reduce = nn.ModuleDict({str(s): relu_conv_bn(widths[s], f, relu=False) for s in self.outputs if widths[s] != f})
        self.out_channels = f * len(self.outputs)

    def forward(self, x0, x1):
        states = [self.h0_adjust(x0), self.h1_adjust(x1)]
        for b, (i1, i2) in enumerate(self.wiring):
            states.append(self.ops[2 * b](states[i1]) + self.ops[2 * b + 1](states[i2]))
        outs = [self.output_reduce[str(s)](states[s]) if str(s) in self.output_reduce else states[s] for s in self.outputs]
        return torch.cat(outs, 1)


class NasNetCifar(nn.Module):
    def __init__(self, n=2, f=16, stem_multiplier=3, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, stem_multiplier * f, 3, 1, 1, bias=False), nn.BatchNorm2d(stem_multiplier * f))
        cells = []
        # (channels, resolution divisor) of the last two outputs; the stem stands in for missing cells
        prev, prev2 = (stem_multiplier * f, 1), (stem_multiplier * f, 1)
        first = True
        for stage in range(3):
            width = f * 2 ** stage
            kinds = ([True] if stage > 0 else []) + [False] * n
            for reduction in kinds:
                cell = Cell(NASNET_A_REDUCTION if reduction else NASNET_A_NORMAL, reduction, prev[0], prev2[0],
                            h1_double=prev2[1] < prev[1], h1_raw=first, f=width)
                first = False
                cells.append(cell)
                prev2, prev = prev, (cell.out_channels, prev[1] * (2 if reduction else 1))
        self.cells = nn.ModuleList(cells)
        self.classifier = nn.Linear(prev[0], classes)

    def forward(self, x):
        s = self.stem(x)
        h1, h0 = s, s
        for cell in self.cells:
            h1, h0 = h0, cell(h0, h1)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(F.relu(h0), 1), 1))


def build(name):
    if name == "resnet20":
        return ResNet(20)
    if name == "resnet56":
        return ResNet(56)
    if name == "nasnet-a-2x16":
        return NasNetCifar(n=2, f=16)
    raise SystemExit(f"--model must be resnet20, resnet56 or nasnet-a-2x16, found '{name}'")


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
