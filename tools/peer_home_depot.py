#!/usr/bin/python3
"""PyTorch peer of siamcl's Home Depot text job, on exactly the rows of a siamcl run.

Reads RUN_DIR/config.ini (the run's resolved config) and RUN_DIR/split.csv (row,id,split),
then trains and tests on the same training, validation and test rows as siamcl. Mirrored:
- the CSV as host/csv.c reads it (latin-1 decoded, texts handed on as UTF-8), through
  tools/baseline_rf.py's reader, which also checks split.csv against the data;
- the features of include/siamcl/features.h: words, '#' + word + '#' letter trigrams, unigrams
  and bigrams as [features] says, FNV-1a into [features] buckets, count/log/binary weighting;
- the bag of host/sparse.c: a row's table rows summed with its values as weights, divided by
  the row's sum of values for bag = mean (an empty text gives 0), then the layer's bias and
  activation;
- the tower of [model] layers (activation, the last layer output_activation), shared by both
  sides; the mlp head on [u, v, |u - v|, u * v] (head_layers, head_activation, then one
  linear output); output = range as cl/similarity.cl's range_forward with an mlp head
  (a = 1, b = 0): score = target_min + (target_max - target_min) sigmoid(h);
- host/model.c's initialization: table U(-1, 1), He-uniform weights before relu, Xavier-uniform
  elsewhere, zero biases;
- host/train.c's training: MSE, Adam (torch.optim.SparseAdam on the table, lazily as siamcl),
  [train] lr, batch_size, beta1, beta2, eps; the training rows shuffled each epoch; early stop
  when the validation MSE has not fallen by min_delta for patience epochs; the best weights
  restored; test MSE, RMSE, MAE, Pearson and Spearman beside the training targets' mean.
  [train] epochs is not read (--epochs bounds the run, 10 as the job), so a run of one epoch
  serves as RUN_DIR.
Not mirrored: siamcl's random streams (initial weights and shuffles differ), and SparseAdam
adds eps to sqrt(v) before the bias correction where siamcl adds it after.

--pair-features feeds three features of each pair into the head beside [u, v, |u - v|, u * v]
(its first layer 4E + 3 wide). With L = the left text (search_term), R = the right text
(product_title), words(T) = the set of distinct words of T (features.h step 1: the UTF-8 bytes
lowercased in A-Z, the maximal runs of [a-z0-9\\x80-\\xff]) and tri(T) = the set of distinct
3-byte windows of '#' + w + '#' over the words w of T:
  f0 = |words(L) & words(R)| / |words(L)|
  f1 = |tri(L) & tri(R)| / |tri(L)|
  f2 = |words(L) & words(R)| / |words(R)|
each 0 where its denominator is 0.

Run it with Debian's python3-torch and python3-numpy:
  build/siamcl train configs/home_depot.ini -o output.dir=runs/home_depot
  tools/peer_home_depot.py runs/home_depot [--pair-features] [--json peer.json]
"""
import argparse
import collections
import configparser
import copy
import math
import os
import re
import sys
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TOOLS)
from baseline_rf import Failure, metrics, read_data, read_split  # noqa: E402
from toollib import fail, read_ini, write_json  # noqa: E402

try:
    import numpy as np
    import torch
except ImportError:
    fail("needs Debian's python3-torch and python3-numpy: sudo apt-get install python3-torch")

WORD = re.compile(rb"[a-z0-9\x80-\xff]+")
ACTS = {"identity": lambda x: x, "relu": torch.relu, "tanh": torch.tanh,
        "sigmoid": torch.sigmoid}
EVAL_PAIRS = 4096


def read_config(run_dir):
    """The run's settings; fails on one this peer does not mirror."""
    path = os.path.join(run_dir, "config.ini")
    try:
        ini = read_ini(path)
    except (OSError, configparser.Error) as e:
        fail(f"{path}: {e}")
    for section in ("data", "features", "model", "train"):
        if not ini.has_section(section):
            ini.add_section(section)
    d, f, m, t = (ini[s] for s in ("data", "features", "model", "train"))
    try:
        acts = [m.get("activation", "relu"), m.get("output_activation", "identity"),
                m.get("head_activation", "relu")]
        mirrored = {
            "[data] format = csv": d.get("format", "csv") == "csv",
            "[features] weighting = count, log or binary":
                f.get("weighting", "count") in ("count", "log", "binary"),
            "[model] head = mlp": m.get("head", "cosine") == "mlp",
            "[model] normalize = false": not m.getboolean("normalize", False),
            "[model] output = raw or range": m.get("output", "raw") in ("raw", "range"),
            f"activations among {', '.join(ACTS)}": set(acts) <= set(ACTS),
            "[train] loss = mse": t.get("loss", "mse") == "mse",
            "[train] optimizer = adam": t.get("optimizer", "adam") == "adam",
            "[train] weight_decay = 0": t.getfloat("weight_decay", 0.0) == 0,
            "[train] clip_norm = 0": t.getfloat("clip_norm", 0.0) == 0,
        }
        cfg = {
            "path": d.get("path", "data/home-depot/train.csv"),
            "encoding": d.get("encoding", "utf-8"),
            "left": d.get("left", "search_term"), "right": d.get("right", "product_title"),
            "target": d.get("target", "relevance"),
            "families": {tag for tag, key, on in (("t", "trigrams", True),
                                                  ("u", "unigrams", True),
                                                  ("b", "bigrams", False))
                         if f.getboolean(key, on)},
            "buckets": f.getint("buckets", 1 << 18),
            "weighting": f.get("weighting", "count"),
            "mean": m.get("bag", "mean") == "mean",
            "layers": [int(x) for x in m.get("layers", "256,128,64").split(",")],
            "acts": acts,
            "head_layers": [int(x) for x in m.get("head_layers", "64").split(",")],
            "range": ((m.getfloat("target_min", 0.0), m.getfloat("target_max", 1.0))
                      if m.get("output", "raw") == "range" else None),
            "lr": t.getfloat("lr", 1e-3), "batch": t.getint("batch_size", 32),
            "betas": (t.getfloat("beta1", 0.9), t.getfloat("beta2", 0.999)),
            "eps": t.getfloat("eps", 1e-8),
            "patience": t.getint("patience", 3), "min_delta": t.getfloat("min_delta", 1e-3),
            "seed": t.getint("seed", 42),
        }
    except ValueError as e:
        fail(f"{path}: {e}")
    unmirrored = [what for what, ok in mirrored.items() if not ok]
    if unmirrored:
        fail(f"{path}: the peer mirrors only {'; '.join(unmirrored)}")
    return cfg


def blas():
    """The BLAS torch loaded; warns on Debian's reference BLAS, which slows the dense layers."""
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]})
    if any("/blas/" in lib for lib in libs):
        print("peer_home_depot: warning: torch runs on the slow reference BLAS; for a fair speed "
              "figure: sudo apt-get install libopenblas0-openmp", file=sys.stderr)
    return ", ".join(libs) or "not found"


def fnv1a(feature):
    h = 2166136261
    for x in feature:
        h = ((h ^ x) * 16777619) & 0xFFFFFFFF
    return h


def featurize(texts, cfg):
    """The texts' rows as CSR (offsets, buckets, values as the bag weights them), and each
    text's word set and trigram set for --pair-features."""
    mask, fams = cfg["buckets"] - 1, cfg["families"]
    weight = {"count": float, "log": lambda n: 1 + math.log(n), "binary": lambda n: 1.0}
    weight = weight[cfg["weighting"]]
    cache = {}  # feature -> bucket
    lengths, indices, values, word_sets, tri_sets = [], [], [], [], []
    for text in texts:
        words = WORD.findall(text.encode("utf-8").lower())
        tris = [(b"#" + w + b"#")[i:i + 3] for w in words for i in range(len(w))]
        feats = [b"t" + x for x in tris] if "t" in fams else []
        feats += [b"u" + w for w in words] if "u" in fams else []
        feats += [b"b" + x + b" " + y for x, y in zip(words, words[1:])] if "b" in fams else []
        for x in feats:
            if x not in cache:
                cache[x] = fnv1a(x) & mask
        row = collections.Counter(cache[x] for x in feats)
        vals = np.array([weight(n) for n in row.values()], np.float32)
        total = vals.sum(dtype=np.float32)
        lengths.append(len(row))
        indices.append(np.fromiter(row, np.int64, len(row)))
        values.append(vals / total if cfg["mean"] and total != 0 else vals)
        word_sets.append(set(words))
        tri_sets.append(set(tris))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return (offsets, np.concatenate(indices), np.concatenate(values)), word_sets, tri_sets


def pair_features(word_sets, tri_sets, n):
    """f0, f1, f2 of pair r (texts r and n + r), as the docstring defines them."""
    def share(a, b):
        return len(a & b) / len(a) if a else 0.0
    return np.array([[share(word_sets[r], word_sets[n + r]), share(tri_sets[r], tri_sets[n + r]),
                      share(word_sets[n + r], word_sets[r])] for r in range(n)], np.float32)


def bag_input(csr, texts):
    """EmbeddingBag's (input, offsets, per_sample_weights) for the texts, in order."""
    off, idx, val = csr
    starts, lens = off[texts], off[texts + 1] - off[texts]
    first = np.cumsum(lens) - lens
    at = np.repeat(starts - first, lens) + np.arange(lens.sum())
    return torch.from_numpy(idx[at]), torch.from_numpy(first), torch.from_numpy(val[at])


def init_dense(lin, act):
    """host/model.c's init_dense: U(-l, l), l = sqrt(6 / fan), fan = in (relu) or in + out."""
    fan = lin.in_features + (0 if act == "relu" else lin.out_features)
    lim = math.sqrt(6.0 / fan)
    torch.nn.init.uniform_(lin.weight, -lim, lim)
    torch.nn.init.zeros_(lin.bias)


class Peer(torch.nn.Module):
    def __init__(self, cfg, extra):
        super().__init__()
        widths, (act, out_act, head_act) = cfg["layers"], cfg["acts"]
        self.acts = [act] * (len(widths) - 1) + [out_act]
        self.head_acts = [head_act] * len(cfg["head_layers"]) + ["identity"]
        self.range = cfg["range"]
        self.bag = torch.nn.EmbeddingBag(cfg["buckets"], widths[0], mode="sum", sparse=True)
        torch.nn.init.uniform_(self.bag.weight, -1.0, 1.0)
        self.bias = torch.nn.Parameter(torch.zeros(widths[0]))
        self.tower = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        head = [4 * widths[-1] + extra] + cfg["head_layers"] + [1]
        self.head = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(head, head[1:]))
        for lin, a in zip(list(self.tower) + list(self.head), self.acts[1:] + self.head_acts):
            init_dense(lin, a)

    def forward(self, bag, extra):
        x = ACTS[self.acts[0]](self.bag(*bag[:2], per_sample_weights=bag[2]) + self.bias)
        for lin, act in zip(self.tower, self.acts[1:]):
            x = ACTS[act](lin(x))
        u, v = x.chunk(2)  # rows: the pairs' left texts, then their right texts
        h = torch.cat([u, v, (u - v).abs(), u * v] + ([extra] if extra is not None else []), 1)
        for lin, act in zip(self.head, self.head_acts):
            h = ACTS[act](lin(h))
        h = h.squeeze(1)
        if self.range is None:
            return h
        lo, hi = self.range
        return lo + (hi - lo) * torch.sigmoid(h)


def batch_input(csr, extra, rows, n):
    """The model's input for data rows `rows` (texts rows and n + rows)."""
    bag = bag_input(csr, np.concatenate([rows, n + rows]))
    return bag, None if extra is None else torch.from_numpy(extra[rows])


@torch.no_grad()
def predict(model, csr, extra, rows, n):
    model.eval()
    return torch.cat([model(*batch_input(csr, extra, rows[i:i + EVAL_PAIRS], n))
                      for i in range(0, len(rows), EVAL_PAIRS)]).numpy()


def main():
    ap = argparse.ArgumentParser(
        description="Train the PyTorch peer of siamcl's Home Depot text job on the rows of a "
        "siamcl run directory; print and optionally write its test figures.",
        epilog="Exit status: 0 on success, 2 on bad input or a missing package.")
    ap.add_argument("run_dir", metavar="RUN_DIR",
                    help="a siamcl run directory of the job (config.ini, split.csv)")
    ap.add_argument("--data", metavar="CSV", help="the data CSV (default: config.ini's "
                    "[data] path, relative to the current directory)")
    ap.add_argument("--seed", type=int, metavar="N",
                    help="seed of the weights and the shuffles (default: the run's [train] seed)")
    ap.add_argument("--pair-features", action="store_true",
                    help="feed three word and trigram overlaps of each pair into the head "
                    "(defined in this script's docstring)")
    ap.add_argument("--epochs", type=int, default=10, metavar="N",
                    help="most epochs (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=2, metavar="N",
                    help="torch CPU threads (default: %(default)s)")
    ap.add_argument("--json", metavar="OUT", help="write the figures there as JSON")
    args = ap.parse_args()
    if args.epochs < 1 or args.threads < 1:
        fail("--epochs and --threads must be at least 1")

    cfg = read_config(args.run_dir)
    seed = cfg["seed"] if args.seed is None else args.seed
    torch.set_num_threads(args.threads)
    torch.manual_seed(seed)
    print(f"peer_home_depot: BLAS {blas()}")
    data = args.data or cfg["path"]
    t0 = time.perf_counter()
    try:
        ids, left, right, target = read_data(data, cfg["encoding"], cfg)
        split = read_split(os.path.join(args.run_dir, "split.csv"), ids)
    except Failure as e:
        fail(str(e))
    n = len(ids)
    csr, word_sets, tri_sets = featurize(left + right, cfg)
    extra = pair_features(word_sets, tri_sets, n) if args.pair_features else None
    y = np.array(target, np.float32)  # siamcl keeps targets as floats
    rows = {s: np.array([r for r in range(n) if split[r] == s], np.int64)
            for s in ("train", "validation", "test")}
    if not all(len(r) for r in rows.values()):
        fail("split.csv lacks training, validation or test rows")
    feature_seconds = time.perf_counter() - t0
    print(f"peer_home_depot: {data}: {n} rows, {len(rows['train'])} / "
          f"{len(rows['validation'])} / {len(rows['test'])} for training / validation / test; "
          f"features {feature_seconds:.1f} s; seed {seed}, torch threads {args.threads}"
          f"{', pair features' if args.pair_features else ''}", flush=True)

    model = Peer(cfg, 3 if args.pair_features else 0)
    dense = [p for name, p in model.named_parameters() if name != "bag.weight"]
    opts = [torch.optim.Adam(dense, lr=cfg["lr"], betas=cfg["betas"], eps=cfg["eps"]),
            torch.optim.SparseAdam([model.bag.weight], lr=cfg["lr"], betas=cfg["betas"],
                                   eps=cfg["eps"])]
    val_y = torch.from_numpy(y[rows["validation"]]).double()
    best_loss, best_epoch, best_state, waited = math.inf, 0, None, 0
    history, train_seconds, epoch = [], 0.0, 0
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        order = np.random.default_rng([seed, 1000 + epoch]).permutation(rows["train"])
        model.train()
        loss_sum = 0.0
        for i in range(0, len(order), cfg["batch"]):
            batch = order[i:i + cfg["batch"]]
            loss = torch.nn.functional.mse_loss(model(*batch_input(csr, extra, batch, n)),
                                                torch.from_numpy(y[batch]))
            for opt in opts:
                opt.zero_grad()
            loss.backward()
            for opt in opts:
                opt.step()
            loss_sum += loss.item() * len(batch)
        seconds = time.perf_counter() - t0
        train_seconds += seconds
        s = torch.from_numpy(predict(model, csr, extra, rows["validation"], n)).double()
        val_loss = float(((s - val_y) ** 2).mean())
        if not math.isfinite(val_loss):
            fail(f"the validation loss is not finite after epoch {epoch}")
        improved = val_loss < best_loss - cfg["min_delta"]
        if improved:
            best_loss, best_epoch, waited = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
        history.append({"epoch": epoch, "train_loss": loss_sum / len(order),
                        "val_loss": val_loss, "seconds": round(seconds, 3)})
        print(f"epoch {epoch}/{args.epochs}: train loss {loss_sum / len(order):.4f}, val loss "
              f"{val_loss:.4f}, {seconds:.1f} s, {len(order) / seconds:.0f} pairs/s"
              f"{' (best)' if improved else ''}", flush=True)
        if cfg["patience"] and waited >= cfg["patience"]:
            break
    model.load_state_dict(best_state)

    test = rows["test"]
    scores = predict(model, csr, extra, test, n).astype(np.float64)
    y_test = y[test].astype(np.float64)
    mean = float(np.mean(y[rows["train"]], dtype=np.float64))
    constant = np.full(len(test), np.float32(mean), np.float64)
    result = {
        "run_dir": args.run_dir, "data": data, "seed": seed,
        "pair_features": args.pair_features, "threads": args.threads,
        "epochs": epoch, "best_epoch": best_epoch,
        "seconds_per_epoch": round(train_seconds / epoch, 3),
        "train_pairs_per_s": round(len(rows["train"]) * epoch / train_seconds, 1),
        "feature_seconds": round(feature_seconds, 3), "train_mean": mean,
        "rows": [metrics("pytorch", scores, y_test, np),
                 metrics("constant_mean", constant, y_test, np)],
        "history": history,
    }
    print(f"peer_home_depot: {epoch} epochs, best epoch {best_epoch}, "
          f"{train_seconds:.1f} s training ({result['seconds_per_epoch']:.1f} s/epoch)")
    print(f"test: {len(test)} rows")
    print(f"{'':14} {'MSE':>9} {'RMSE':>9} {'MAE':>9} {'Pearson':>9} {'Spearman':>9}")
    for row in result["rows"]:
        cells = [f"{row[k]:9.4f}" if row[k] is not None else f"{'-':>9}"
                 for k in ("mse", "rmse", "mae", "pearson", "spearman")]
        print(f"{row['name']:<14} " + " ".join(cells))
    if args.json:
        try:
            write_json(args.json, result)
        except OSError as e:
            fail(f"{args.json}: {e}")
        print(f"peer_home_depot: wrote {args.json}")


if __name__ == "__main__":
    main()
