#!/usr/bin/python3
"""PyTorch peer of siamcl's Home Depot text job, on exactly the rows of a siamcl run.

Reads RUN_DIR/config.ini (the run's resolved config) and RUN_DIR/split.csv (row,id,split),
then trains and tests on the same training, validation and test rows as siamcl. Mirrored:
- the CSV as host/csv.c reads it (latin-1 decoded, texts handed on as UTF-8), through
  tools/baseline_rf.py's reader, which also checks split.csv against the data;
- the features of host/siamcl/features.h: words, '#' + word + '#' letter trigrams, unigrams
  and bigrams as [features] says, FNV-1a into [features] buckets, count/log/binary weighting;
- the bag of host/sparse.c: a row's table rows summed with its values as weights, divided by
  the row's sum of values for bag = mean (an empty text gives 0), then the layer's bias and
  activation;
- the tower of [model] layers (activation, the last layer output_activation), shared by both
  sides; the mlp head on [u, v, |u - v|, u * v] (head_layers, head_activation, then one
  linear output), with pair_features = overlap followed by the three overlap features below
  (the head's first layer 4E + 3 wide); output = range as cl/similarity.cl's range_forward
  with an mlp head (a = 1, b = 0): score = target_min + (target_max - target_min) sigmoid(h);
- [model] dropout = p as host/model.c's hidden_output: in training only, torch.nn.Dropout(p)
  (inverted: kept values scaled by 1 / (1 - p)) on the output of every tower layer but the
  last (the first being the bag, its bias and activation) and of every hidden head layer, never
  on the embedding, the head's input or its output;
- host/model.c's initialization: table U(-1, 1), He-uniform weights before relu, Xavier-uniform
  elsewhere, zero biases;
- host/train.c's training: MSE, Adam (torch.optim.SparseAdam on the table, lazily as siamcl),
  [train] lr, batch_size, beta1, beta2, eps; the training rows shuffled each epoch; each
  epoch judged by [train] monitor, the validation MSE (loss; improved when it falls by
  min_delta) or Spearman (quality; improved when it rises by min_delta), the first epoch
  always the best so far; early stop after patience epochs without improvement; the best
  weights restored; test MSE, RMSE, MAE, Pearson and Spearman beside the training targets'
  mean. [train] epochs is not read (--epochs bounds the run, 10 as the job), so a run of one
  epoch serves as RUN_DIR;
- host/train_ensemble.c's [train] ensemble = K: K models trained one after the other on the
  same split, model k (from 1) seeded with seed + k - 1 (weights, shuffles, dropout), each with
  its own early stop; a test pair scored by the mean of the K models' scores, the table's
  first row, then each model's own (member_1 .. member_K) as siamcl's. RUN_DIR is the
  ensemble's directory; a member's (RUN_DIR/member-k, whose config has [train] member = k - 1)
  is refused.
Not mirrored: siamcl's random streams (initial weights, shuffles and dropout masks differ), and
SparseAdam adds eps to sqrt(v) before the bias correction where siamcl adds it after.

The overlap features of host/siamcl/overlap.h, with L = the left text (search_term), R =
the right text (product_title), words(T) = the set of distinct words of T (features.h step 1:
the UTF-8 bytes lowercased in A-Z, the maximal runs of [a-z0-9\\x80-\\xff]) and tri(T) = the
set of distinct 3-byte windows of '#' + w + '#' over the words w of T:
  f0 = |words(L) & words(R)| / |words(L)|
  f1 = |tri(L) & tri(R)| / |tri(L)|
  f2 = |words(L) & words(R)| / |words(R)|
each 0 where its denominator is 0.

The run's config alone decides the settings: for a peer with pair features, dropout or an
ensemble, train siamcl with them (-o model.pair_features=overlap -o model.dropout=0.3
-o train.ensemble=3; one epoch serves, -o train.epochs=1).

Run it with Debian's python3-torch and python3-numpy:
  build/siamcl train configs/home_depot.ini -o output.dir=runs/home_depot
  tools/peer_home_depot.py runs/home_depot [--json peer.json]
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
        member = t.getint("member", 0)
        if member:
            fail(f"{path}: [train] member = {member}: {run_dir} is member {member + 1} of an "
                 "ensemble; give the ensemble's run directory (its parent), which the peer "
                 "trains as a whole")
        acts = [m.get("activation", "relu"), m.get("output_activation", "identity"),
                m.get("head_activation", "relu")]
        mirrored = {
            "[data] format = csv": d.get("format", "csv") == "csv",
            "[features] weighting = count, log or binary":
                f.get("weighting", "count") in ("count", "log", "binary"),
            "[model] head = mlp": m.get("head", "cosine") == "mlp",
            "[model] pair_features = none or overlap":
                m.get("pair_features", "none") in ("none", "overlap"),
            "[model] dropout in [0, 1)": 0 <= m.getfloat("dropout", 0.0) < 1,
            "[model] normalize = false": not m.getboolean("normalize", False),
            "[model] output = raw or range": m.get("output", "raw") in ("raw", "range"),
            f"activations among {', '.join(ACTS)}": set(acts) <= set(ACTS),
            "[train] loss = mse": t.get("loss", "mse") == "mse",
            "[train] optimizer = adam": t.get("optimizer", "adam") == "adam",
            "[train] weight_decay = 0": t.getfloat("weight_decay", 0.0) == 0,
            "[train] clip_norm = 0": t.getfloat("clip_norm", 0.0) == 0,
            "[train] monitor = loss or quality": t.get("monitor", "loss") in ("loss", "quality"),
            "[train] ensemble = 1 .. 10": 1 <= t.getint("ensemble", 1) <= 10,
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
            "pair_features": m.get("pair_features", "none") == "overlap",
            "dropout": m.getfloat("dropout", 0.0),
            "range": ((m.getfloat("target_min", 0.0), m.getfloat("target_max", 1.0))
                      if m.get("output", "raw") == "range" else None),
            "lr": t.getfloat("lr", 1e-3), "batch": t.getint("batch_size", 32),
            "betas": (t.getfloat("beta1", 0.9), t.getfloat("beta2", 0.999)),
            "eps": t.getfloat("eps", 1e-8),
            "patience": t.getint("patience", 3), "min_delta": t.getfloat("min_delta", 1e-3),
            "monitor": t.get("monitor", "loss"), "seed": t.getint("seed", 42),
            "ensemble": t.getint("ensemble", 1),
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
    text's word set and trigram set for the overlap features."""
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
        self.drop = torch.nn.Dropout(cfg["dropout"])

    def forward(self, bag, extra):
        # dropped: the input of every tower layer after the bag and of every head layer but
        # the first, i.e. the output of every hidden layer
        x = ACTS[self.acts[0]](self.bag(*bag[:2], per_sample_weights=bag[2]) + self.bias)
        for lin, act in zip(self.tower, self.acts[1:]):
            x = ACTS[act](lin(self.drop(x)))
        u, v = x.chunk(2)  # rows: the pairs' left texts, then their right texts
        h = torch.cat([u, v, (u - v).abs(), u * v] + ([extra] if extra is not None else []), 1)
        for i, (lin, act) in enumerate(zip(self.head, self.head_acts)):
            h = ACTS[act](lin(self.drop(h) if i else h))
        h = h.squeeze(1)
        if self.range is None:
            return h
        lo, hi = self.range
        return lo + (hi - lo) * torch.sigmoid(h)


# The rows as the model reads them: csr of the 2n texts (data row r's left text r, its right
# text n + r), the pairs' overlap features (None without), the targets, the rows of each split.
Data = collections.namedtuple("Data", "csr extra y rows n")


def batch_input(data, rows):
    """The model's input for data rows `rows` (texts rows and n + rows)."""
    bag = bag_input(data.csr, np.concatenate([rows, data.n + rows]))
    return bag, None if data.extra is None else torch.from_numpy(data.extra[rows])


@torch.no_grad()
def predict(model, data, rows):
    model.eval()
    return torch.cat([model(*batch_input(data, rows[i:i + EVAL_PAIRS]))
                      for i in range(0, len(rows), EVAL_PAIRS)]).numpy()


def train(cfg, data, seed, epochs):
    """A model trained with seed (its weights, shuffles and dropout) and its best weights
    restored, and what its training did."""
    torch.manual_seed(seed)
    model = Peer(cfg, 0 if data.extra is None else data.extra.shape[1])
    dense = [p for name, p in model.named_parameters() if name != "bag.weight"]
    opts = [torch.optim.Adam(dense, lr=cfg["lr"], betas=cfg["betas"], eps=cfg["eps"]),
            torch.optim.SparseAdam([model.bag.weight], lr=cfg["lr"], betas=cfg["betas"],
                                   eps=cfg["eps"])]
    val, y = data.rows["validation"], data.y
    val_y = torch.from_numpy(y[val]).double()
    best, best_epoch, best_state, waited = math.nan, 0, None, 0
    history, train_seconds, epoch = [], 0.0, 0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        order = np.random.default_rng([seed, 1000 + epoch]).permutation(data.rows["train"])
        model.train()
        loss_sum = 0.0
        for i in range(0, len(order), cfg["batch"]):
            batch = order[i:i + cfg["batch"]]
            loss = torch.nn.functional.mse_loss(model(*batch_input(data, batch)),
                                                torch.from_numpy(y[batch]))
            for opt in opts:
                opt.zero_grad()
            loss.backward()
            for opt in opts:
                opt.step()
            loss_sum += loss.item() * len(batch)
        seconds = time.perf_counter() - t0
        train_seconds += seconds
        s = predict(model, data, val)
        val_loss = float(((torch.from_numpy(s).double() - val_y) ** 2).mean())
        if not math.isfinite(val_loss):
            fail(f"seed {seed}: the validation loss is not finite after epoch {epoch}")
        spearman = metrics("validation", s.astype(np.float64), y[val].astype(np.float64),
                           np)["spearman"]
        quality = math.nan if spearman is None else spearman  # None: constant scores
        # siamcl's end_epoch: the first epoch is the best so far even with a NaN Spearman
        figure = quality if cfg["monitor"] == "quality" else -val_loss
        improved = not best_epoch or figure > best + cfg["min_delta"]
        if improved:
            best, best_epoch, waited = figure, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
        history.append({"epoch": epoch, "train_loss": loss_sum / len(order),
                        "val_loss": val_loss, "val_spearman": spearman,
                        "seconds": round(seconds, 3)})
        print(f"epoch {epoch}/{epochs}: train loss {loss_sum / len(order):.4f}, val loss "
              f"{val_loss:.4f}, val Spearman {quality:.4f}, {seconds:.1f} s, "
              f"{len(order) / seconds:.0f} pairs/s{' (best)' if improved else ''}", flush=True)
        if cfg["patience"] and waited >= cfg["patience"]:
            break
    model.load_state_dict(best_state)
    summary = {"seed": seed, "epochs": epoch, "best_epoch": best_epoch,
               "seconds": round(train_seconds, 3),
               "seconds_per_epoch": round(train_seconds / epoch, 3),
               "train_pairs_per_s": round(len(data.rows["train"]) * epoch / train_seconds, 1),
               "history": history}
    print(f"peer_home_depot: seed {seed}: {epoch} epochs, best epoch {best_epoch}, "
          f"{train_seconds:.1f} s training ({summary['seconds_per_epoch']:.1f} s/epoch)")
    return model, summary


def main():
    ap = argparse.ArgumentParser(
        description="Train the PyTorch peer of siamcl's Home Depot text job on the rows of a "
        "siamcl run directory, as its config.ini says (pair features, dropout, an ensemble "
        "included); print and optionally write its test figures.",
        epilog="Exit status: 0 on success, 2 on bad input or a missing package.")
    ap.add_argument("run_dir", metavar="RUN_DIR",
                    help="a siamcl run directory of the job (config.ini, split.csv); of an "
                    "ensemble, the ensemble's")
    ap.add_argument("--data", metavar="CSV", help="the data CSV (default: config.ini's "
                    "[data] path, relative to the current directory)")
    ap.add_argument("--seed", type=int, metavar="N",
                    help="seed of the weights, the shuffles and dropout, N + k - 1 for an "
                    "ensemble's model k (default: the run's [train] seed)")
    ap.add_argument("--epochs", type=int, default=10, metavar="N",
                    help="most epochs of each model (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=2, metavar="N",
                    help="torch CPU threads (default: %(default)s)")
    ap.add_argument("--json", metavar="OUT", help="write the figures there as JSON")
    args = ap.parse_args()
    if args.epochs < 1 or args.threads < 1:
        fail("--epochs and --threads must be at least 1")

    cfg = read_config(args.run_dir)
    seed = cfg["seed"] if args.seed is None else args.seed
    torch.set_num_threads(args.threads)
    print(f"peer_home_depot: BLAS {blas()}")
    path = args.data or cfg["path"]
    t0 = time.perf_counter()
    try:
        ids, left, right, target = read_data(path, cfg["encoding"], cfg)
        split = read_split(os.path.join(args.run_dir, "split.csv"), ids)
    except Failure as e:
        fail(str(e))
    n = len(ids)
    csr, word_sets, tri_sets = featurize(left + right, cfg)
    rows = {s: np.array([r for r in range(n) if split[r] == s], np.int64)
            for s in ("train", "validation", "test")}
    if not all(len(r) for r in rows.values()):
        fail("split.csv lacks training, validation or test rows")
    data = Data(csr, pair_features(word_sets, tri_sets, n) if cfg["pair_features"] else None,
                np.array(target, np.float32), rows, n)  # siamcl keeps targets as floats
    feature_seconds = time.perf_counter() - t0
    size = cfg["ensemble"]
    settings = [f"seed {seed}", f"torch threads {args.threads}", f"monitor {cfg['monitor']}"]
    settings += ["pair features"] if cfg["pair_features"] else []
    settings += [f"dropout {cfg['dropout']:g}"] if cfg["dropout"] else []
    settings += [f"ensemble of {size}"] if size > 1 else []
    print(f"peer_home_depot: {path}: {n} rows, {len(rows['train'])} / "
          f"{len(rows['validation'])} / {len(rows['test'])} for training / validation / test; "
          f"features {feature_seconds:.1f} s; {', '.join(settings)}", flush=True)

    test = rows["test"]
    members, scores = [], []
    for i in range(size):
        if size > 1:
            print(f"peer_home_depot: ensemble member {i + 1} of {size} (seed {seed + i})")
        model, summary = train(cfg, data, seed + i, args.epochs)
        members.append({"name": f"member_{i + 1}", **summary})
        scores.append(predict(model, data, test).astype(np.float64))
    y_test = data.y[test].astype(np.float64)
    mean = float(np.mean(data.y[rows["train"]], dtype=np.float64))
    constant = np.full(len(test), np.float32(mean), np.float64)
    epochs = sum(m["epochs"] for m in members)
    train_seconds = sum(m["seconds"] for m in members)
    named = [("pytorch", np.mean(scores, axis=0))]  # siamcl's row: the members' mean
    named += [(m["name"], s) for m, s in zip(members, scores)] if size > 1 else []
    named += [("constant_mean", constant)]
    result = {
        "run_dir": args.run_dir, "data": path, "seed": seed, "ensemble": size,
        "pair_features": cfg["pair_features"], "dropout": cfg["dropout"],
        "monitor": cfg["monitor"], "threads": args.threads,
        "seconds_per_epoch": round(train_seconds / epochs, 3),
        "train_pairs_per_s": round(len(rows["train"]) * epochs / train_seconds, 1),
        "feature_seconds": round(feature_seconds, 3), "train_mean": mean,
        "rows": [metrics(name, s, y_test, np) for name, s in named],
        "members": members,
    }
    print(f"test: {len(test)} rows" + (f"; pytorch: the mean of {size} members' scores"
                                       if size > 1 else ""))
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
