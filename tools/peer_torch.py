#!/usr/bin/python3
"""PyTorch peer of siamcl's default Fashion-MNIST recipe, for side-by-side figures."""
import argparse
import copy
import gzip
import os
import sys
import time

import numpy as np

from toollib import write_json

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("peer_torch: needs Debian's python3-torch: sudo apt-get install python3-torch",
          file=sys.stderr)
    sys.exit(2)

PATIENCE, MIN_DELTA, EVAL_BATCH = 3, 1e-3, 256


def fail(msg):
    print(f"peer_torch: {msg}", file=sys.stderr)
    sys.exit(2)


def load_idx(path, magic):
    """An IDX file (gzip or plain) as a uint8 array shaped by its header."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, EOFError) as e:
        fail(f"{path}: {getattr(e, 'strerror', None) or e}")
    ndim = magic & 0xFF
    if len(data) < 4 + 4 * ndim or int.from_bytes(data[:4], "big") != magic:
        fail(f"{path}: not an IDX file with magic 0x{magic:08x}")
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    payload = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if payload.size != np.prod(shape):
        fail(f"{path}: header says {shape} but the payload holds {payload.size} bytes")
    return payload.reshape(shape)


def load_split(data_dir, split):
    """Images (count x 784 floats in [0,1]) and labels of train or t10k."""
    images = load_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz"), 0x803)
    labels = load_idx(os.path.join(data_dir, f"{split}-labels-idx1-ubyte.gz"), 0x801)
    if len(images) != len(labels):
        fail(f"{data_dir}: {split} has {len(images)} images but {len(labels)} labels")
    return images.reshape(len(images), -1).astype(np.float32) / 255, labels.astype(np.int64)


def draw_pairs(labels, pool, rng):
    """Per anchor of pool: one positive (another pool member of its class, target 1) and one
    negative (a pool member of another class, target 0), as (left, right, target) arrays."""
    order = pool[np.argsort(labels[pool], kind="stable")]  # pool grouped by class
    cls = labels[order]
    counts = np.bincount(cls)
    if np.count_nonzero(counts) < 2:
        fail("pairs need at least two classes")
    start, size = (np.cumsum(counts) - counts)[cls], counts[cls]
    at = np.arange(len(order))
    r = rng.integers(0, np.maximum(size - 1, 1))  # skip the anchor's own slot
    pos = np.where(size > 1, start + r + (r >= at - start), at)
    r = rng.integers(0, len(order) - size)  # skip the anchor's class block
    neg = r + size * (r >= start)
    left = np.repeat(order, 2)
    right = np.stack([order[pos], order[neg]], 1).ravel()
    target = np.tile(np.array([1, 0], np.float32), len(order))
    return left, right, target


def read_pairs(path, n_images):
    """(left, right, target) from a siamcl pairs CSV, checked against the image count."""
    try:
        with open(path) as f:
            header, body = f.readline().strip(), f.read().split()
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    if header != "left,right,target":
        fail(f"{path}: expected the header left,right,target")
    if not body:
        fail(f"{path}: no pairs")
    try:
        rows = np.array([line.split(",") for line in body], dtype=np.float64)
    except ValueError:
        rows = None
    if rows is None or rows.ndim != 2 or rows.shape[1] != 3:
        fail(f"{path}: expected rows of three numbers left,right,target")
    idx = rows[:, :2]
    if (idx % 1).any() or idx.min() < 0 or idx.max() >= n_images:
        fail(f"{path}: an image index that is not an integer in 0..{n_images - 1}")
    if not np.isin(rows[:, 2], (0, 1)).all():
        fail(f"{path}: a target other than 0 or 1")
    return idx[:, 0].astype(np.int64), idx[:, 1].astype(np.int64), rows[:, 2].astype(np.float32)


def auc(s, y):
    """Rank-based ROC-AUC; tied scores share their mean rank."""
    _, inv, counts = np.unique(s, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - counts + (counts + 1) / 2)[inv]
    pos = y > 0.5
    p, n = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - p * (p + 1) / 2) / (p * n) if p and n else float("nan")


def best_threshold(s, y):
    """The threshold, below all scores or a midpoint between consecutive distinct ones (the
    first best when several tie), maximizing the accuracy of s >= t as a predictor of y."""
    values, inv = np.unique(s, return_inverse=True)
    pos = np.bincount(inv, y > 0.5, len(values))
    neg = np.bincount(inv, y <= 0.5, len(values))
    right = pos.sum() + np.concatenate([[0], np.cumsum(neg - pos)])
    v = values.astype(np.float64)
    cuts = np.concatenate([[v[0] - 1], (v[:-1] + v[1:]) / 2, [v[-1] + 1]])
    return cuts[np.argmax(right)]


class Siamese(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.tower = torch.nn.Sequential(
            torch.nn.Linear(784, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 64))

    def forward(self, a, b):
        ea, eb = self.tower(torch.cat([a, b])).split(len(a))  # one pass through the shared tower
        return F.cosine_similarity(ea, eb)


@torch.no_grad()
def scores(model, x, left, right):
    model.eval()
    out = [model(x[left[i:i + EVAL_BATCH]], x[right[i:i + EVAL_BATCH]])
           for i in range(0, len(left), EVAL_BATCH)]
    return torch.cat(out).numpy()


@torch.no_grad()
def knn_accuracy(model, x_train, y_train, x_test, y_test):
    """1-NN accuracy of test embeddings against all training embeddings, by cosine."""
    model.eval()
    train = F.normalize(torch.cat([model.tower(c) for c in x_train.split(4096)]))
    hits = 0
    for xc, yc in zip(x_test.split(1024), torch.from_numpy(y_test).split(1024)):
        nearest = (F.normalize(model.tower(xc)) @ train.T).argmax(1)
        hits += (torch.from_numpy(y_train)[nearest] == yc).sum().item()
    return hits / len(y_test)


def report_blas():
    """Print the BLAS torch loaded; Debian's reference BLAS makes training several times slower."""
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]})
    print(f"peer_torch: BLAS {', '.join(libs) or 'not found'}")
    if any("/blas/" in lib for lib in libs):
        print("peer_torch: warning: torch runs on the slow reference BLAS; for a fair speed "
              "figure: sudo apt-get install libopenblas0-openmp", file=sys.stderr)


def nullable(v):
    return None if v is None or np.isnan(v) else float(v)


def main():
    ap = argparse.ArgumentParser(
        description="Train the PyTorch peer of siamcl's default recipe on Fashion-MNIST: a "
        "shared tower 784-256-128-64 (ReLU), cosine score, MSE loss against the 0/1 target, "
        "Adam lr 1e-3, early stopping on validation loss (patience 3, min_delta 1e-3, best "
        "weights restored). Each epoch draws, for every training anchor, one positive and one "
        "negative pair. Test metrics (MSE, MAE, ROC-AUC, accuracy at the validation-best "
        "threshold, 1-NN accuracy over all training images) and timings are printed and "
        "written as JSON.")
    ap.add_argument("--run", metavar="DIR", help="siamcl run directory: evaluate on its "
                    "val_pairs.csv and test_pairs.csv and train on every training image "
                    "outside the validation pairs (default: hold out 10%% and draw pairs here)")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist", metavar="DIR",
                    help="folder of the {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz files "
                    "(default: %(default)s)")
    ap.add_argument("--epochs", type=int, default=50, help="most epochs (default: %(default)s)")
    ap.add_argument("--batch", type=int, default=32, help="training batch (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=42, help="seed of the weights, the hold-out and "
                    "the pairs; epoch e draws with seed+e (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=2,
                    help="torch CPU threads (default: %(default)s)")
    ap.add_argument("--out", default="peer_metrics.json", metavar="FILE",
                    help="metrics JSON to write (default: %(default)s)")
    args = ap.parse_args()
    if args.epochs < 1 or args.batch < 1 or args.threads < 1:
        fail("--epochs, --batch and --threads must be at least 1")

    torch.set_num_threads(args.threads)
    report_blas()
    torch.manual_seed(args.seed)
    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    if args.run:
        val = read_pairs(os.path.join(args.run, "val_pairs.csv"), len(x_train))
        test = read_pairs(os.path.join(args.run, "test_pairs.csv"), len(x_test))
        anchors = np.setdiff1d(np.arange(len(x_train)), np.concatenate(val[:2]))
    else:
        rng = np.random.default_rng([args.seed, 0x5917])
        held = np.sort(rng.permutation(len(x_train))[:round(0.1 * len(x_train))])
        anchors = np.setdiff1d(np.arange(len(x_train)), held)
        val = draw_pairs(y_train, held, rng)
        test = draw_pairs(y_test, np.arange(len(x_test)), rng)
    print(f"peer_torch: {len(anchors)} training anchors, {len(val[0])} validation pairs, "
          f"{len(test[0])} test pairs, {args.threads} threads, batch {args.batch}")

    xtr, xte = torch.from_numpy(x_train), torch.from_numpy(x_test)
    model = Siamese()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    best_loss, best_epoch, best_state, stale = float("inf"), 0, None, 0
    train_seconds, train_pairs, epoch = 0.0, 0, 0
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        rng = np.random.default_rng(args.seed + epoch)
        left, right, target = draw_pairs(y_train, anchors, rng)
        perm = rng.permutation(len(left))
        left, right, target = (torch.from_numpy(a[perm]) for a in (left, right, target))
        model.train()
        loss_sum = 0.0
        for i in range(0, len(left), args.batch):
            t = target[i:i + args.batch]
            loss = F.mse_loss(model(xtr[left[i:i + args.batch]], xtr[right[i:i + args.batch]]), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(t)
        seconds = time.perf_counter() - t0
        train_seconds += seconds
        train_pairs += len(left)
        s = scores(model, xtr, val[0], val[1])
        val_loss = float(np.mean((s.astype(np.float64) - val[2]) ** 2))
        print(f"epoch {epoch:2d}  train_loss {loss_sum / len(left):.4f}  val_loss {val_loss:.4f}  "
              f"val_auc {auc(s, val[2]):.4f}  {seconds:.1f} s  {len(left) / seconds:.0f} pairs/s",
              flush=True)
        if val_loss < best_loss - MIN_DELTA:
            best_loss, best_epoch, stale = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if stale >= PATIENCE:
                break
    if best_state is None:
        fail("the validation loss is not a number")
    model.load_state_dict(best_state)

    threshold = best_threshold(scores(model, xtr, val[0], val[1]), val[2])
    t0 = time.perf_counter()
    s = scores(model, xte, test[0], test[1]).astype(np.float64)
    infer_pairs_per_s = len(s) / (time.perf_counter() - t0)
    y = test[2]
    row = {
        "name": "pytorch",
        "mse": float(np.mean((s - y) ** 2)),
        "mae": float(np.mean(np.abs(s - y))),
        "auc": nullable(auc(s, y)),
        "accuracy": float(np.mean((s >= threshold) == (y > 0.5))),
        "threshold": float(threshold),
        "knn_accuracy": knn_accuracy(model, xtr, y_train, xte, y_test),
        "epochs": epoch,
        "best_epoch": best_epoch,
        "seconds_per_epoch": train_seconds / epoch,
        "train_pairs_per_s": train_pairs / train_seconds,
        "infer_pairs_per_s": infer_pairs_per_s,
    }
    print(f"stopped after {epoch} epochs, best epoch {best_epoch}")
    print(f"test: MSE {row['mse']:.4f}  MAE {row['mae']:.4f}  ROC-AUC {row['auc']:.4f}  "
          f"accuracy {row['accuracy']:.4f} (threshold {threshold:.4f})  "
          f"1-NN accuracy {row['knn_accuracy']:.4f}")
    print(f"timing: {row['seconds_per_epoch']:.1f} s/epoch, {row['train_pairs_per_s']:.0f} "
          f"training pairs/s, {infer_pairs_per_s:.0f} inference pairs/s")
    try:
        write_json(args.out, row)
    except OSError as e:
        fail(f"{args.out}: {e}")
    print(f"peer_torch: wrote {args.out}")


if __name__ == "__main__":
    main()
