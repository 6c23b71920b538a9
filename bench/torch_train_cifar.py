"""PyTorch reference for `sharpnas train --model resnet20 --data cifar10:DIR`: the same recipe, to tell a weak recipe
or a weak data copy from a fault of our trainer. Prints one JSON line per epoch and a last one with the totals.

Usage: /usr/bin/python3 bench/torch_train_cifar.py --data ../shared/datasets/cifar-10-jpeg-derived [--epochs 30]
       [--lr 0.1] [--batch 128] [--weight-decay 5e-4] [--threads 2] [--seed 0]
Recipe (as `sharpnas train`'s defaults): ResNet-20 option A (bench/torch_reference.py), SGD Nesterov momentum 0.9,
weight decay on every parameter, cosine learning rate per step to 0, per-channel normalisation from the training set,
pad-4 random crop and horizontal flip, all 50,000 training images, test accuracy on the 10,000 test images each epoch.
PyTorch's own default initialisation, so the two sides differ in their random streams and initial weights.
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from torch_reference import build


def load(folder, names):
    images, labels = [], []
    for name in names:
        path = os.path.join(folder, name)
        raw = gzip.open(path + ".gz").read() if os.path.exists(path + ".gz") else open(path, "rb").read()
        rows = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 1 + 3 * 32 * 32)
        labels.append(rows[:, 0].astype(np.int64))
        images.append(rows[:, 1:].reshape(-1, 3, 32, 32))
    return torch.from_numpy(np.concatenate(images)).float().div_(255), torch.from_numpy(np.concatenate(labels))


def augment(x, generator):
    n = x.shape[0]
    padded = F.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=generator)
    dx = torch.randint(0, 9, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    out = torch.empty_like(x)
    for i in range(n):
        crop = padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        out[i] = crop.flip(2) if flip[i] else crop
    return out


def accuracy(model, x, y, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return correct / x.shape[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)

    train_x, train_y = load(args.data, [f"data_batch_{i}.bin" for i in range(1, 6)])
    test_x, test_y = load(args.data, ["test_batch.bin"])
    mean = train_x.mean(dim=(0, 2, 3), keepdim=True)
    std = train_x.std(dim=(0, 2, 3), keepdim=True)
    train_x = (train_x - mean) / std
    test_x = (test_x - mean) / std

    model = build("resnet20")
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(train_x.shape[0] / args.batch)
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(train_x.shape[0], generator=generator)
        seen, correct, loss_sum = 0, 0, 0.0
        for i in range(0, train_x.shape[0], args.batch):
            idx = order[i:i + args.batch]
            xb, yb = augment(train_x[idx], generator), train_y[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += yb.shape[0]
            correct += (logits.argmax(1) == yb).sum().item()
            loss_sum += loss.item() * yb.shape[0]
        print(json.dumps({"epoch": epoch, "train_loss": round(loss_sum / seen, 4), "train_accuracy": round(correct / seen, 4),
                          "test_accuracy": accuracy(model, test_x, test_y), "seconds": round(time.time() - start, 1)}), flush=True)
    print(json.dumps({"workload": "train/resnet20-cifar10", "epochs": args.epochs, "test_accuracy": accuracy(model, test_x, test_y),
                      "seconds": round(time.time() - start, 1), "threads": args.threads, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
