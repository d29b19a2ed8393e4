#!/usr/bin/python3
"""PyTorch peer of `siamcl bench`: times training steps (zero_grad, forward, loss, backward,
optimizer step) and inference (forward only) of siamcl's two reference models on random data,
and prints one JSON object with the same keys as a row of `siamcl bench --json`."""
import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("torch_steps: needs Debian's python3-torch: apt-get install -y python3-torch",
          file=sys.stderr)
    sys.exit(2)

WARMUP = 5
FEATURES, BUCKETS = 40, 2**18  # the text model's random texts, as siamcl bench draws them


class Fashion(nn.Module):
    """784-256-128-64 relu tower, cosine head (configs/fashion_mnist.ini)."""

    def __init__(self):
        super().__init__()
        self.tower = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                                   nn.ReLU(), nn.Linear(128, 64))

    def forward(self, x):  # x: (2B, 784), left rows then right rows
        u, v = self.tower(x).chunk(2)
        return F.cosine_similarity(u, v)


class Text(nn.Module):
    """Mean embedding bag 2^18 x 256, tanh tower, mlp head on [u, v, |u-v|, u*v], range
    output 1..3 (configs/home_depot.ini)."""

    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(BUCKETS, 256, mode="mean", sparse=True)
        self.tower = nn.Sequential(nn.Tanh(), nn.Linear(256, 128), nn.Tanh())
        self.head = nn.Sequential(nn.Linear(4 * 128, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, x):  # x: (ids, offsets) of 2B texts, left texts then right texts
        u, v = self.tower(self.bag(*x)).chunk(2)
        z = self.head(torch.cat([u, v, (u - v).abs(), u * v], 1)).squeeze(1)
        return 1 + 2 * torch.sigmoid(z)


def setup(model, B, gen):
    """The module, its optimizers, one random input batch and its targets."""
    if model == "fashion":
        net = Fashion()
        x = torch.rand(2 * B, 784, generator=gen)
        y = torch.randint(0, 2, (B,), generator=gen).float()
        return net, [torch.optim.Adam(net.parameters(), lr=1e-3)], x, y
    net = Text()
    # 40 distinct ids per text: one random id in each of 40 equal strides, as siamcl bench does
    stride = BUCKETS // FEATURES
    ids = torch.arange(FEATURES) * stride + torch.randint(0, stride, (2 * B, FEATURES),
                                                          generator=gen)
    x = (ids.flatten(), torch.arange(2 * B) * FEATURES)
    y = 1 + 2 * torch.rand(B, generator=gen)
    dense = [p for n, p in net.named_parameters() if not n.startswith("bag.")]
    opts = [torch.optim.SparseAdam(list(net.bag.parameters()), lr=3e-3),
            torch.optim.Adam(dense, lr=3e-3)]
    return net, opts, x, y


def time_steps(step, seconds):
    """Seconds per call of step, over at least `seconds` and 3 calls, after a warm-up."""
    for _ in range(WARMUP):
        step()
    start, steps = time.perf_counter(), 0
    while steps < 3 or time.perf_counter() - start < seconds:
        step()
        steps += 1
    return (time.perf_counter() - start) / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", choices=("fashion", "text"), required=True)
    ap.add_argument("--batch", type=int, default=32, help="pairs per step (default 32)")
    ap.add_argument("--seconds", type=float, default=2, help="time each part this long (2)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (2)")
    args = ap.parse_args()
    if args.batch < 1 or args.seconds < 0 or args.threads < 1:
        ap.error("--batch and --threads must be positive, --seconds not negative")
    torch.set_num_threads(args.threads)
    net, opts, x, y = setup(args.model, args.batch, torch.Generator().manual_seed(42))

    def train_step():
        for o in opts:
            o.zero_grad()
        F.mse_loss(net(x), y).backward()
        for o in opts:
            o.step()

    def infer_step():
        with torch.no_grad():
            net(x)

    train = time_steps(train_step, args.seconds)
    infer = time_steps(infer_step, args.seconds)
    print(json.dumps({"model": args.model, "batch": args.batch, "threads": args.threads,
                      "torch": torch.__version__,
                      "train_ms_per_step": round(1e3 * train, 4),
                      "train_pairs_per_s": round(args.batch / train, 1),
                      "infer_ms_per_step": round(1e3 * infer, 4),
                      "infer_pairs_per_s": round(args.batch / infer, 1)}))


if __name__ == "__main__":
    main()
