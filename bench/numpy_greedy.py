# The bench's NumPy peer: parse stage 5's embedded JSONL and run exact greedy cosine dedup with BLAS products.
"""Usage: python3 bench/numpy_greedy.py FILE THRESHOLD KEPT_OUT

The obvious strong NumPy program for stage 6: orjson (or json) per line into one float32 matrix, rows
L2-normalised in float64 and stored as float32, passing rows visited first (each group in input order).
Greedy runs by blocks of candidates: one sgemm of the block against every row kept so far, one of the block
against itself, then the block's rows in visit order. float32 products only flag pairs (within 1e-4 of the
threshold or above); every flagged pair is decided in float64 from the stored float32 rows, as the pipeline's
canonical similarity is, so the kept set is the exact greedy one. Prints one JSON line of timings; writes the
kept row indices (input order, ascending) to KEPT_OUT, one a line.
"""
import json
import sys
import time

import numpy as np

try:
    import orjson

    loads = orjson.loads
    PARSER = "orjson"
except ImportError:  # pragma: no cover - the bench machine has orjson
    loads = json.loads
    PARSER = "json"

BLOCK = 1024
FLAG = 1e-4


def read(path):
    vectors = []
    passing = []
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            row = loads(line)
            vectors.append(np.asarray(row["embedding"], dtype=np.float32))
            passing.append(bool(row["judgment"]["overall_pass"]))
    return np.vstack(vectors), np.array(passing)


def greedy(x, passing, t):
    n, d = x.shape
    norms = np.sqrt(np.einsum("ij,ij->i", x.astype(np.float64), x.astype(np.float64)))
    norms[norms == 0] = 1
    order = np.concatenate([np.nonzero(passing)[0], np.nonzero(~passing)[0]])
    rows = (x[order].astype(np.float64) / norms[order, None]).astype(np.float32)
    kept = np.empty((n, d), dtype=np.float32)
    kept_idx = []
    nk = 0
    for b0 in range(0, n, BLOCK):
        blk = rows[b0 : b0 + BLOCK]
        before = blk @ kept[:nk].T if nk else np.zeros((len(blk), 0), dtype=np.float32)
        inner = blk @ blk.T
        flagged = np.nonzero((before >= t - FLAG).any(axis=1))[0]
        dup = np.zeros(len(blk), dtype=bool)
        for i in flagged:
            cand = np.nonzero(before[i] >= t - FLAG)[0]
            exact = kept[cand].astype(np.float64) @ blk[i].astype(np.float64)
            dup[i] = bool((exact >= t).any())
        # Within the block, in visit order; only rows flagged against an earlier row of the block need a look.
        close = np.tril(inner >= t - FLAG, -1)
        kmask = np.zeros(len(blk), dtype=bool)
        for i in range(len(blk)):
            if not dup[i] and close[i].any():
                near = np.nonzero(close[i] & kmask)[0]
                if len(near):
                    exact = blk[near].astype(np.float64) @ blk[i].astype(np.float64)
                    dup[i] = bool((exact >= t).any())
            kmask[i] = not dup[i]
        block_kept = np.nonzero(kmask)[0]
        kept[nk : nk + len(block_kept)] = blk[block_kept]
        nk += len(block_kept)
        kept_idx.extend(int(order[b0 + i]) for i in block_kept)
    return sorted(kept_idx)


def main():
    path, t, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    t0 = time.perf_counter()
    x, passing = read(path)
    t1 = time.perf_counter()
    kept = greedy(x, passing, t)
    t2 = time.perf_counter()
    with open(out, "w") as f:
        f.write("\n".join(map(str, kept)) + "\n")
    print(json.dumps({"parser": PARSER, "numpy": np.__version__, "parseS": t1 - t0, "dedupS": t2 - t1, "kept": len(kept)}))


if __name__ == "__main__":
    main()
