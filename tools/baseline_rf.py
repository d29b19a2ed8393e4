#!/usr/bin/python3
"""The seed notebook's Random Forest on exactly the split of a siamcl text run.

Reads RUN_DIR/config.ini ([data] path, encoding, left, right, target) and RUN_DIR/split.csv
(row,id,split), then fits the seed's recipe on the training rows only:

  CountVectorizer(analyzer='char', ngram_range=(1, 1)) fitted on the training rows' left
  texts (search terms); features = the character counts of the left text and of the right
  text side by side; RandomForestRegressor(n_estimators=100, random_state=42, n_jobs=2).

The validation rows are not used. On the test rows it reports MSE, RMSE, MAE, Pearson and
Spearman of the forest and of a constant predictor (the training targets' mean), the same
rows and measures as siamcl's metrics.json, and writes them as JSON.

Needs Debian's python3-sklearn and python3-numpy (sudo apt-get install python3-sklearn).
"""

import argparse
import configparser
import csv
import math
import os
import sys
import time

from toollib import read_ini, write_json

SPLITS = ("train", "validation", "test")


class Failure(Exception):
    """An input problem: printed as 'baseline_rf: MESSAGE' with exit status 2."""


def parse_args():
    p = argparse.ArgumentParser(
        prog="baseline_rf.py",
        description=__doc__.split("\n\n")[0],
        epilog="""A relative [data] path in config.ini is relative to the directory siamcl
was run from; it is resolved against the current directory, so run this from there or
give --data. Exit status: 0 on success, 2 on bad input or a missing package.
Example: tools/baseline_rf.py runs/home_depot""",
    )
    p.add_argument("run_dir", metavar="RUN_DIR",
                   help="a siamcl text run directory (config.ini and split.csv)")
    p.add_argument("--data", metavar="CSV",
                   help="the data CSV, overriding config.ini's [data] path")
    p.add_argument("--out", metavar="FILE",
                   help="where to write the JSON results (default RUN_DIR/baseline_rf.json)")
    return p.parse_args()


def read_config(run_dir):
    path = os.path.join(run_dir, "config.ini")
    try:
        ini = read_ini(path)
    except (OSError, configparser.Error) as e:
        raise Failure(f"{path}: {e}")
    data = ini["data"] if ini.has_section("data") else {}
    if data.get("format", "csv") != "csv":
        raise Failure(f"{path}: [data] format is not csv; this is not a text run")
    cfg = {
        "path": data.get("path", "data/home-depot/train.csv"),
        "encoding": data.get("encoding", "utf-8"),
        "left": data.get("left", "search_term"),
        "right": data.get("right", "product_title"),
        "target": data.get("target", "relevance"),
    }
    if cfg["encoding"] not in ("utf-8", "latin-1"):
        raise Failure(f"{path}: unknown encoding '{cfg['encoding']}' (expected utf-8 or latin-1)")
    return cfg


def read_data(path, encoding, cfg):
    """Returns (ids, left texts, right texts, targets) of the CSV's data rows in file order."""
    csv.field_size_limit(sys.maxsize)
    try:
        # utf-8-sig drops a byte order mark, as siamcl does; blank lines are skipped, as siamcl does.
        with open(path, encoding="utf-8-sig" if encoding == "utf-8" else encoding,
                  newline="") as f:
            records = [r for r in csv.reader(f) if r]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        hint = " (if the file is latin-1, set [data] encoding = latin-1)" \
            if isinstance(e, UnicodeDecodeError) else ""
        raise Failure(f"{path}: {e}{hint}")
    if not records:
        raise Failure(f"{path}: empty file")
    header, rows = records[0], records[1:]
    col = {}
    for key in ("left", "right", "target"):
        if cfg[key] not in header:
            raise Failure(f"{path}: no column '{cfg[key]}' ([data] {key}); columns: "
                          + ", ".join(header))
        col[key] = header.index(cfg[key])
    id_col = header.index("id") if "id" in header else None
    ids, left, right, target = [], [], [], []
    for i, r in enumerate(rows):
        if len(r) != len(header):
            raise Failure(f"{path}: data row {i}: {len(r)} fields, but the header has {len(header)}")
        try:
            target.append(float(r[col["target"]]))
        except ValueError:
            raise Failure(f"{path}: data row {i}: target '{r[col['target']]}' is not a number")
        ids.append(r[id_col] if id_col is not None else str(i))  # siamcl's id without one
        left.append(r[col["left"]])
        right.append(r[col["right"]])
    return ids, left, right, target


def read_split(path, ids):
    """Returns the split name of every data row, checking rows and ids against the CSV's."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            records = [r for r in csv.reader(f) if r]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise Failure(f"{path}: {e}")
    if not records or records[0] != ["row", "id", "split"]:
        raise Failure(f"{path}: the header is not row,id,split")
    if len(records) - 1 != len(ids):
        raise Failure(f"{path} has {len(records) - 1} rows but the data has {len(ids)}: "
                      "not the CSV this run was trained on (see --data)")
    split = [None] * len(ids)
    for line, r in enumerate(records[1:], start=2):
        if len(r) < 3 or not r[0].isdigit() or r[-1] not in SPLITS:
            raise Failure(f"{path}:{line}: malformed row {r}")
        row, rid = int(r[0]), ",".join(r[1:-1])
        if row >= len(ids) or split[row] is not None:
            raise Failure(f"{path}:{line}: row {row} out of range or repeated")
        if rid != ids[row]:
            raise Failure(f"{path}:{line}: row {row} has id {rid}, but the data's row {row} has "
                          f"id {ids[row]}: not the CSV this run was trained on (see --data)")
        split[row] = r[-1]
    return split


def ranks(x, np):
    """Ranks 1..n with ties given their average rank."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], len(xs)]
    r = np.empty(len(x))
    r[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return r


def metrics(name, pred, y, np):
    err = pred - y
    mse = float(np.mean(err ** 2))
    row = {"name": name, "mse": mse, "rmse": math.sqrt(mse), "mae": float(np.mean(np.abs(err))),
           "pearson": None, "spearman": None}
    if np.ptp(pred) > 0 and np.ptp(y) > 0:  # undefined for a constant, as in siamcl's table
        row["pearson"] = float(np.corrcoef(pred, y)[0, 1])
        try:
            from scipy.stats import spearmanr
            row["spearman"] = float(spearmanr(pred, y)[0])
        except ImportError:
            row["spearman"] = float(np.corrcoef(ranks(pred, np), ranks(y, np))[0, 1])
    return row


def main():
    args = parse_args()
    try:
        import numpy as np
    except ImportError:
        print("baseline_rf: needs Debian's python3-numpy: sudo apt-get install python3-numpy",
              file=sys.stderr)
        return 2
    try:
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.feature_extraction.text import CountVectorizer
    except ImportError:
        print("baseline_rf: needs Debian's python3-sklearn: sudo apt-get install python3-sklearn",
              file=sys.stderr)
        return 2

    cfg = read_config(args.run_dir)
    data = args.data or cfg["path"]
    ids, left, right, target = read_data(data, cfg["encoding"], cfg)
    split = read_split(os.path.join(args.run_dir, "split.csv"), ids)
    train = [i for i, s in enumerate(split) if s == "train"]
    test = [i for i, s in enumerate(split) if s == "test"]
    if not train or not test:
        raise Failure("split.csv has no training or no test rows")
    y = np.asarray(target)

    # The seed's recipe: character counts, the vocabulary from the training search terms.
    vec = CountVectorizer(analyzer="char", ngram_range=(1, 1))
    vec.fit([left[i] for i in train])

    def features(rows):  # dense: one column per character, and a forest fits it 6x faster
        return np.hstack([vec.transform([left[i] for i in rows]).toarray(),
                          vec.transform([right[i] for i in rows]).toarray()]).astype(np.float32)

    forest = RandomForestRegressor(n_estimators=100, random_state=42, n_jobs=2)
    x_train = features(train)
    start = time.perf_counter()
    forest.fit(x_train, y[train])
    fit_seconds = time.perf_counter() - start

    y_test = y[test]
    mean = float(np.mean(y[train]))
    result = {
        "run_dir": args.run_dir,
        "data": data,
        "train_rows": len(train),
        "validation_rows": len(split) - len(train) - len(test),
        "test_rows": len(test),
        "features": 2 * len(vec.vocabulary_),
        "fit_seconds": round(fit_seconds, 3),
        "train_mean": mean,
        "rows": [metrics("random_forest", forest.predict(features(test)), y_test, np),
                 metrics("constant_mean", np.full(len(test), mean), y_test, np)],
    }

    print(f"data: {data}: {len(train)} train, {result['validation_rows']} validation (unused), "
          f"{len(test)} test rows; {result['features']} features; fit {fit_seconds:.1f} s")
    print(f"{'test':<14} {'mse':>8} {'rmse':>8} {'mae':>8} {'pearson':>8} {'spearman':>8}")
    for row in result["rows"]:
        cells = [f"{row[k]:8.6f}" if row[k] is not None else f"{'-':>8}"
                 for k in ("mse", "rmse", "mae", "pearson", "spearman")]
        print(f"{row['name']:<14} " + " ".join(cells))
    out = args.out or os.path.join(args.run_dir, "baseline_rf.json")
    try:
        write_json(out, result)
    except OSError as e:
        raise Failure(f"{out}: {e}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        print(f"baseline_rf: {e}", file=sys.stderr)
        sys.exit(2)
