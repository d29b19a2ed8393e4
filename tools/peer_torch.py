#!/usr/bin/python3
"""PyTorch peer of siamcl's Fashion-MNIST image recipes, for side-by-side figures.

With --run RUN_DIR, the recipe is RUN_DIR/config.ini's (the run's resolved config), the peer
validates on RUN_DIR/val_pairs.csv, tests on RUN_DIR/test_pairs.csv and trains on every
training image outside the validation pairs, as siamcl did; without it, the recipe is siamcl's
defaults (those of configs/fashion_mnist.ini), a seeded 10% of the training images is held out
and the validation and test pairs are drawn here. Mirrored:
- the pairs of host/task_image.c and host/task_labels.c: pixels / 255; each epoch, for every
  training anchor, one positive (another anchor of its class, target 1) and one negative (an
  anchor of another class, target 0), shuffled; drawn by numpy, epoch e with seed + e, not
  siamcl's generator;
- the tower of [model] layers from the 784 pixels, [model] activation after every layer but
  the last, shared by both sides of a pair; its output L2-normalized (u / max(|u|, 1e-12))
  with [model] normalize = true; the cosine head, raw output; torch's default initialization,
  not siamcl's;
- [model] dropout = p (host/model.c's hidden_output): in training, torch.nn.Dropout(p) on the
  output of every hidden tower layer, after its activation (not on the embedding, the last
  layer's output); the masks drawn by torch's generator, not siamcl's hash; off in evaluation;
- [train] loss = mse: (cosine - target)^2, the mean over the batch;
- [train] loss = softmax, cl/loss.cl's softmax_rows (sentence-transformers'
  MultipleNegativesRankingLoss with in-batch negatives): for a batch of B pairs
  (l_i, r_i, y_i), logits[i][j] = [train] scale * cos(l_i, r_j); row i's term is
  y_i (logsumexp_j logits[i][j] - logits[i][i]) over the columns j that are not masked; the
  batch loss is sum_i term_i / sum_i y_i (0 for a batch without positives). Column j != i is
  masked in row i (cl/loss.cl's same_item) when key(l_i) = key(l_j), key(l_i) = key(r_j) or
  key(r_i) = key(r_j), an image's key being its class label. An epoch's loss, training or
  validation, is the sum of its batches' terms over the sum of their targets, the validation
  pairs taken in batches of [train] batch_size in file order;
- [train] loss = triplet, tests/reference.c's ref_triplet (cl/loss.cl's triplet_anchors): over
  the 2B rows of a batch (its left rows, then its right rows), keyed by their class labels,
  D(a, b) = 1 - cos(x_a, x_b) of the embeddings and the terms
  max(0, D(a, p) - D(a, n) + [train] margin), by [train] mining: none, for each pair i whose
  rows share their key, anchor a = left row i, p = right row i and n = the first right row
  j = i + 1, i + 2, ... (mod B) of another key, the mean over these anchors; batch_hard, for
  each row a with another row of its key and a row of another key, its farthest p (p != a) and
  nearest n, the mean over these rows; batch_all, every (a, p, n) with p != a of a's key and n
  of another, the mean over the triplets whose term is positive; 0 for a batch without any.
  An epoch's loss, training or validation, is the mean of its batches' losses weighted by
  their pairs, the validation pairs taken in batches of [train] batch_size in file order;
- Adam with [train] lr, beta1, beta2, eps, batches of [train] batch_size;
- host/train.c's early stopping by [train] monitor: loss (the validation loss; an epoch
  improves when it falls by more than min_delta) or quality (the validation ROC-AUC; when it
  rises by more than min_delta); the first epoch is always the best so far; stop after
  [train] patience epochs without improvement (0: never); the best weights restored;
- host/train_ensemble.c's [train] ensemble = K: K models trained one after the other, model k
  (from 1) seeded seed + k - 1 (its weights; its epoch e's pairs drawn with
  seed + 1000 (k - 1) + e, so that no two models share an epoch's pairs), each with its own
  early stop; a pair's score is the mean of the K
  models' cosines, and the 1-NN search is by the mean of their cosines (the K L2-normalized
  embeddings side by side);
- the test report: MSE, MAE, ROC-AUC, accuracy at the threshold best on the validation pairs,
  1-NN accuracy against all training images by cosine; the row "pytorch" (an ensemble's mean),
  then each model's own (member_1 .. member_K) when K > 1, as siamcl's metrics.json.
Refused, with the setting named: another [data] format or [model] input, another head, output,
output_activation, activation, loss, mining, optimizer or monitor, weight decay, gradient
clipping, and a member's run directory (RUN_DIR/member-k, whose config has [train] member =
k - 1; give the ensemble's). [train] epochs, batch_size and seed are the defaults of --epochs,
--batch and --seed.

Run it with Debian's python3-torch and python3-numpy:
  build/siamcl train configs/fashion_mnist.ini -o output.dir=runs/fashion_mnist
  tools/peer_torch.py --run runs/fashion_mnist --out peer_metrics.json
or through tools/compare_fashion, which does both and prints the figures side by side.
"""
import argparse
import configparser
import copy
import gzip
import os
import sys
import time

import numpy as np

from toollib import read_ini, write_json

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("peer_torch: needs Debian's python3-torch: sudo apt-get install python3-torch",
          file=sys.stderr)
    sys.exit(2)

EVAL_BATCH = 256
ACTS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
        "identity": torch.nn.Identity}
MININGS = ("none", "batch_hard", "batch_all")


def fail(msg):
    print(f"peer_torch: {msg}", file=sys.stderr)
    sys.exit(2)


def read_recipe(path):
    """The recipe of the config at path (None: siamcl's defaults); fails on a setting this
    peer does not mirror."""
    ini = configparser.ConfigParser()
    try:
        if path:
            ini = read_ini(path)
    except (OSError, configparser.Error) as e:
        fail(f"{path}: {e}")
    for section in ("data", "model", "train"):
        if not ini.has_section(section):
            ini.add_section(section)
    d, m, t = (ini[s] for s in ("data", "model", "train"))
    try:
        member = t.getint("member", 0)
        if member:
            fail(f"{path}: [train] member = {member}: this is member {member + 1} of an "
                 "ensemble; give the ensemble's run directory (its parent), which the peer "
                 "trains as a whole")
        mirrored = {
            "[data] format = idx": d.get("format", "idx") == "idx",
            "[model] input = 784": m.getint("input", 784) == 784,
            f"[model] activation among {', '.join(ACTS)}": m.get("activation", "relu") in ACTS,
            "[model] output_activation = identity":
                m.get("output_activation", "identity") == "identity",
            "[model] head = cosine": m.get("head", "cosine") == "cosine",
            "[model] output = raw": m.get("output", "raw") == "raw",
            "[model] dropout in [0, 1)": 0 <= m.getfloat("dropout", 0.0) < 1,
            "[train] loss = mse, softmax or triplet":
                t.get("loss", "mse") in ("mse", "softmax", "triplet"),
            f"[train] mining among {', '.join(MININGS)}":
                t.get("mining", "batch_hard") in MININGS,
            "[train] optimizer = adam": t.get("optimizer", "adam") == "adam",
            "[train] weight_decay = 0": t.getfloat("weight_decay", 0.0) == 0,
            "[train] clip_norm = 0": t.getfloat("clip_norm", 0.0) == 0,
            "[train] monitor = loss or quality": t.get("monitor", "loss") in ("loss", "quality"),
        }
        recipe = {
            "layers": [int(x) for x in m.get("layers", "256,128,64").split(",")],
            "activation": m.get("activation", "relu"),
            "normalize": m.getboolean("normalize", False),
            "dropout": m.getfloat("dropout", 0.0),
            "loss": t.get("loss", "mse"), "scale": t.getfloat("scale", 20.0),
            "mining": t.get("mining", "batch_hard"), "margin": t.getfloat("margin", 0.2),
            "lr": t.getfloat("lr", 1e-3),
            "betas": (t.getfloat("beta1", 0.9), t.getfloat("beta2", 0.999)),
            "eps": t.getfloat("eps", 1e-8), "batch": t.getint("batch_size", 32),
            "epochs": t.getint("epochs", 50), "patience": t.getint("patience", 3),
            "min_delta": t.getfloat("min_delta", 1e-3), "monitor": t.get("monitor", "loss"),
            "ensemble": t.getint("ensemble", 1), "seed": t.getint("seed", 42),
        }
    except ValueError as e:
        fail(f"{path}: {e}")
    unmirrored = [what for what, ok in mirrored.items() if not ok]
    if unmirrored:
        fail(f"{path}: the peer mirrors only {'; '.join(unmirrored)}")
    return recipe


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
    def __init__(self, recipe):
        super().__init__()
        widths = [784] + recipe["layers"]
        layers = []
        for a, b in zip(widths, widths[1:]):
            if layers:  # a hidden layer's output: its activation, then dropout when training
                layers.append(ACTS[recipe["activation"]]())
                if recipe["dropout"]:
                    layers.append(torch.nn.Dropout(recipe["dropout"]))
            layers.append(torch.nn.Linear(a, b))
        self.tower = torch.nn.Sequential(*layers)
        self.normalize = recipe["normalize"]

    def embed(self, x):
        e = self.tower(x)
        return F.normalize(e) if self.normalize else e

    def pair(self, a, b):
        """The embeddings of both sides, through one pass of the shared tower."""
        return self.embed(torch.cat([a, b])).split(len(a))

    def forward(self, a, b):
        return F.cosine_similarity(*self.pair(a, b))


def softmax_terms(ea, eb, keys_left, keys_right, target, scale):
    """cl/loss.cl's softmax_rows: row i's term y_i (logsumexp over the unmasked columns j of
    scale * cos(l_i, r_j), minus its diagonal), as the docstring says."""
    logits = scale * F.normalize(ea) @ F.normalize(eb).T
    masked = ((keys_left[:, None] == keys_left) | (keys_left[:, None] == keys_right)
              | (keys_right[:, None] == keys_right))
    masked.fill_diagonal_(False)
    logits = logits.masked_fill(masked, float("-inf"))
    return target * (torch.logsumexp(logits, 1) - logits.diagonal())


def triplet_loss(emb, keys, mining, margin):
    """tests/reference.c's ref_triplet of the 2B rows of emb (the left rows, then the right
    rows) keyed by keys, with the cosine head's distance, as the docstring says."""
    norm = emb.norm(dim=1)
    dist = 1 - emb @ emb.T / (norm[:, None] * norm).clamp_min(1e-12)
    same = keys[:, None] == keys
    pos = same & ~torch.eye(len(keys), dtype=torch.bool)
    if mining == "none":
        pairs = len(keys) // 2
        a = torch.arange(pairs)
        # the right rows after a cyclically, a's own (of its key) last
        j = (a[:, None] + torch.arange(1, pairs + 1)) % pairs
        other = ~same[a[:, None], pairs + j]
        a = a[(keys[a] == keys[pairs + a]) & other.any(1)]
        n = pairs + j[a, other[a].int().argmax(1)]  # the first of another key
        terms = F.relu(dist[a, pairs + a] - dist[a, n] + margin)
        count = len(a)
    elif mining == "batch_hard":
        rows = pos.any(1) & (~same).any(1)
        far = dist.masked_fill(~pos, float("-inf")).max(1).values
        near = dist.masked_fill(same, float("inf")).min(1).values
        terms = F.relu(far[rows] - near[rows] + margin)
        count = len(terms)
    else:
        a, p = pos.nonzero(as_tuple=True)  # every (a, p), then every n of another key
        terms = F.relu(dist[a, p, None] - dist[a] + margin)[~same[a]]
        count = torch.count_nonzero(terms).item()
    return terms.sum() / max(count, 1)


def batch_loss(recipe, model, x, labels, left, right, target):
    """The batch's loss and its weight: the pairs (mse, triplet), the sum of the targets
    (softmax)."""
    if recipe["loss"] == "mse":
        return F.mse_loss(model(x[left], x[right]), target), len(target)
    if recipe["loss"] == "triplet":
        rows = torch.cat([left, right])
        return triplet_loss(model.embed(x[rows]), labels[rows], recipe["mining"],
                            recipe["margin"]), len(target)
    terms = softmax_terms(*model.pair(x[left], x[right]), labels[left], labels[right], target,
                          recipe["scale"])
    weight = target.sum().item()
    return terms.sum() / max(weight, 1), weight


@torch.no_grad()
def scores(model, x, left, right):
    model.eval()
    out = [model(x[left[i:i + EVAL_BATCH]], x[right[i:i + EVAL_BATCH]])
           for i in range(0, len(left), EVAL_BATCH)]
    return torch.cat(out).numpy()


@torch.no_grad()
def batchwise_loss(recipe, model, x, labels, pairs):
    """The softmax or triplet loss of the pairs in batches of the training batch size, in
    order: the sum of the softmax terms over the sum of the targets; the mean of the triplet
    batch losses weighted by their pairs."""
    model.eval()
    left, right, target = (torch.from_numpy(a) for a in pairs)
    b, total = recipe["batch"], 0.0
    for i in range(0, len(left), b):
        lb, rb = left[i:i + b], right[i:i + b]
        if recipe["loss"] == "softmax":
            total += softmax_terms(*model.pair(x[lb], x[rb]), labels[lb], labels[rb],
                                   target[i:i + b], recipe["scale"]).double().sum().item()
        else:
            rows = torch.cat([lb, rb])
            total += triplet_loss(model.embed(x[rows]), labels[rows], recipe["mining"],
                                  recipe["margin"]).item() * len(lb)
    weight = target.double().sum().item() if recipe["loss"] == "softmax" else len(target)
    return total / max(weight, 1)


@torch.no_grad()
def knn_accuracy(models, x_train, y_train, x_test, y_test):
    """1-NN accuracy of test images against all training images by the mean of the models'
    cosines: the dot product of their L2-normalized embeddings side by side."""
    for model in models:
        model.eval()

    def embed(x):
        return torch.cat([F.normalize(m.embed(x)) for m in models], 1)

    train = torch.cat([embed(c) for c in x_train.split(4096)])
    hits = 0
    for xc, yc in zip(x_test.split(1024), torch.from_numpy(y_test).split(1024)):
        nearest = (embed(xc) @ train.T).argmax(1)
        hits += (torch.from_numpy(y_train)[nearest] == yc).sum().item()
    return hits / len(y_test)


def train(recipe, seed, draws, epochs, xtr, y_train, anchors, val):
    """A model trained with seed (its weights), epoch e's pairs drawn with draws + e, its best
    weights restored, and its training figures."""
    torch.manual_seed(seed)
    model = Siamese(recipe)
    opt = torch.optim.Adam(model.parameters(), lr=recipe["lr"], betas=recipe["betas"],
                           eps=recipe["eps"])
    labels = torch.from_numpy(y_train)
    quality = recipe["monitor"] == "quality"
    batch, min_delta = recipe["batch"], recipe["min_delta"]
    best, best_epoch, best_state, stale = None, 0, None, 0
    train_seconds, train_pairs, epoch = 0.0, 0, 0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        rng = np.random.default_rng(draws + epoch)
        left, right, target = draw_pairs(y_train, anchors, rng)
        perm = rng.permutation(len(left))
        left, right, target = (torch.from_numpy(a[perm]) for a in (left, right, target))
        model.train()
        loss_sum, weight_sum = 0.0, 0.0
        for i in range(0, len(left), batch):
            loss, weight = batch_loss(recipe, model, xtr, labels, left[i:i + batch],
                                      right[i:i + batch], target[i:i + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * weight
            weight_sum += weight
        seconds = time.perf_counter() - t0
        train_seconds += seconds
        train_pairs += len(left)
        s = scores(model, xtr, val[0], val[1])
        val_loss = (float(np.mean((s.astype(np.float64) - val[2]) ** 2))
                    if recipe["loss"] == "mse" else batchwise_loss(recipe, model, xtr, labels, val))
        if not np.isfinite(val_loss):
            fail(f"seed {seed}: the validation loss is not finite after epoch {epoch}")
        val_auc = auc(s, val[2])
        print(f"epoch {epoch:2d}  train_loss {loss_sum / weight_sum:.4f}  "
              f"val_loss {val_loss:.4f}  val_auc {val_auc:.4f}  {seconds:.1f} s  "
              f"{len(left) / seconds:.0f} pairs/s", flush=True)
        figure = val_auc if quality else val_loss
        if not best_epoch or (figure > best + min_delta if quality
                              else figure < best - min_delta):
            best, best_epoch, stale = figure, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if recipe["patience"] and stale >= recipe["patience"]:
                break
    model.load_state_dict(best_state)
    print(f"stopped after {epoch} epochs, best epoch {best_epoch}")
    return model, {"epochs": epoch, "best_epoch": best_epoch, "seconds": train_seconds,
                   "pairs": train_pairs}


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


def test_row(name, val_scores, test_scores, val_target, test_target, knn, timing):
    """A row of the test report (scores as float64), with the training and inference figures
    of timing: epochs, seconds, pairs (trained), infer_seconds and, for one model, best_epoch."""
    threshold = best_threshold(val_scores, val_target)
    s, y = test_scores, test_target
    row = {
        "name": name,
        "mse": float(np.mean((s - y) ** 2)),
        "mae": float(np.mean(np.abs(s - y))),
        "auc": nullable(auc(s, y)),
        "accuracy": float(np.mean((s >= threshold) == (y > 0.5))),
        "threshold": float(threshold),
        "knn_accuracy": knn,
        "epochs": timing["epochs"],
    }
    if "best_epoch" in timing:
        row["best_epoch"] = timing["best_epoch"]
    row.update(seconds_per_epoch=timing["seconds"] / timing["epochs"],
               train_pairs_per_s=timing["pairs"] / timing["seconds"],
               infer_pairs_per_s=len(s) / timing["infer_seconds"])
    return row


def main():
    ap = argparse.ArgumentParser(
        description="Train the PyTorch peer of siamcl's Fashion-MNIST recipe of a run's "
        "config.ini (without --run, siamcl's defaults: a shared tower 784-256-128-64 (ReLU), "
        "cosine score, MSE loss against the 0/1 target, Adam lr 1e-3, batch 32, early "
        "stopping on validation loss (patience 3, min_delta 1e-3, best weights restored)); "
        "the softmax and triplet losses, dropout, monitor = quality and ensembles are "
        "mirrored too (the module's docstring lists what exactly). Each epoch draws, for "
        "every training anchor, one positive and one negative pair. Test metrics (MSE, MAE, "
        "ROC-AUC, accuracy at the validation-best threshold, 1-NN accuracy over all training "
        "images) and timings are printed and written as JSON: the row pytorch and, for an "
        "ensemble, member_1 ...")
    ap.add_argument("--run", metavar="DIR", help="siamcl run directory: train with its "
                    "config.ini's recipe, evaluate on its val_pairs.csv and test_pairs.csv and "
                    "train on every training image outside the validation pairs (default: "
                    "siamcl's default recipe; hold out 10%% and draw pairs here)")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist", metavar="DIR",
                    help="folder of the {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz files "
                    "(default: %(default)s)")
    ap.add_argument("--epochs", type=int, help="most epochs of each model (default: the run's "
                    "[train] epochs, 50 without --run)")
    ap.add_argument("--batch", type=int, help="training batch, and the softmax and triplet "
                    "losses' validation batch (default: the run's [train] batch_size, 32 "
                    "without --run)")
    ap.add_argument("--seed", type=int, help="seed of the weights, the hold-out and the pairs; "
                    "epoch e draws with seed+e; an ensemble's model k uses seed+k-1 (default: "
                    "the run's [train] seed, 42 without --run)")
    ap.add_argument("--threads", type=int, default=2,
                    help="torch CPU threads (default: %(default)s)")
    ap.add_argument("--out", default="peer_metrics.json", metavar="FILE",
                    help="metrics JSON to write (default: %(default)s)")
    args = ap.parse_args()
    recipe = read_recipe(args.run and os.path.join(args.run, "config.ini"))
    for key, value in (("epochs", args.epochs), ("batch", args.batch), ("seed", args.seed)):
        if value is not None:
            recipe[key] = value
    if recipe["epochs"] < 1 or recipe["batch"] < 1 or args.threads < 1:
        fail("--epochs, --batch and --threads must be at least 1")

    torch.set_num_threads(args.threads)
    report_blas()
    seed, size = recipe["seed"], recipe["ensemble"]
    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    if args.run:
        val = read_pairs(os.path.join(args.run, "val_pairs.csv"), len(x_train))
        test = read_pairs(os.path.join(args.run, "test_pairs.csv"), len(x_test))
        anchors = np.setdiff1d(np.arange(len(x_train)), np.concatenate(val[:2]))
    else:
        rng = np.random.default_rng([seed, 0x5917])
        held = np.sort(rng.permutation(len(x_train))[:round(0.1 * len(x_train))])
        anchors = np.setdiff1d(np.arange(len(x_train)), held)
        val = draw_pairs(y_train, held, rng)
        test = draw_pairs(y_test, np.arange(len(x_test)), rng)
    loss = recipe["loss"]
    if loss == "triplet":
        loss += f" ({recipe['mining']}, margin {recipe['margin']:g})"
    settings = [f"{args.threads} threads", f"batch {recipe['batch']}", f"loss {loss}",
                f"monitor {recipe['monitor']}"]
    settings += [f"dropout {recipe['dropout']:g}"] if recipe["dropout"] else []
    settings += [f"ensemble of {size}"] if size > 1 else []
    print(f"peer_torch: {len(anchors)} training anchors, {len(val[0])} validation pairs, "
          f"{len(test[0])} test pairs, {', '.join(settings)}")

    xtr, xte = torch.from_numpy(x_train), torch.from_numpy(x_test)
    models, timings, val_scores, test_scores = [], [], [], []
    for k in range(size):
        if size > 1:
            print(f"peer_torch: model {k + 1} of {size} (seed {seed + k})", flush=True)
        # model k's epochs draw from seed + 1000 k on: apart from the others' (a single
        # model's draws stay those of seed + e)
        model, timing = train(recipe, seed + k, seed + 1000 * k, recipe["epochs"], xtr, y_train,
                              anchors, val)
        val_scores.append(scores(model, xtr, val[0], val[1]))
        t0 = time.perf_counter()
        test_scores.append(scores(model, xte, test[0], test[1]).astype(np.float64))
        timing["infer_seconds"] = time.perf_counter() - t0
        models.append(model)
        timings.append(timing)

    total = {key: sum(t[key] for t in timings)
             for key in ("epochs", "seconds", "pairs", "infer_seconds")}
    ensemble = timings[0] if size == 1 else total
    rows = [test_row("pytorch", np.mean(val_scores, axis=0), np.mean(test_scores, axis=0),
                     val[2], test[2], knn_accuracy(models, xtr, y_train, xte, y_test), ensemble)]
    rows += [test_row(f"member_{k + 1}", v, s, val[2], test[2],
                      knn_accuracy([m], xtr, y_train, xte, y_test), t)
             for k, (m, v, s, t) in enumerate(zip(models, val_scores, test_scores, timings))
             if size > 1]
    print(f"test: {len(test[0])} pairs; threshold chosen on validation; 1-NN by cosine against "
          "the training images" + (f"; pytorch: the mean of {size} models' scores"
                                   if size > 1 else ""))
    print(f"{'':14} {'MSE':>9} {'MAE':>9} {'ROC-AUC':>9} {'accuracy':>9} {'1-NN':>9}")
    for row in rows:
        cells = [f"{'-':>9}" if row[k] is None else f"{row[k]:9.4f}"
                 for k in ("mse", "mae", "auc", "accuracy", "knn_accuracy")]
        print(f"{row['name']:<14} " + " ".join(cells))
    print(f"timing: {rows[0]['seconds_per_epoch']:.1f} s/epoch, "
          f"{rows[0]['train_pairs_per_s']:.0f} training pairs/s, "
          f"{rows[0]['infer_pairs_per_s']:.0f} inference pairs/s")
    result = {"run": args.run, "loss": recipe["loss"], "monitor": recipe["monitor"],
              "batch": recipe["batch"], "seed": seed, "ensemble": size,
              "threads": args.threads, "rows": rows}
    try:
        write_json(args.out, result)
    except OSError as e:
        fail(f"{args.out}: {e}")
    print(f"peer_torch: wrote {args.out}")


if __name__ == "__main__":
    main()
