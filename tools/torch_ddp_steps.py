#!/usr/bin/python3
"""PyTorch peer of siamcl under mpirun: times training steps of the two reference models
(tools/torch_steps.py's, on its random data) with DistributedDataParallel over N processes
(gloo, this machine), each with T threads and its share of every batch of B pairs, and prints
one JSON object: the global batch's pairs per second as rank 0 times its steps."""
import argparse
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_steps import F, setup, time_steps, torch  # noqa: E402


def share(n, rank, ranks):
    """Rank's share of n pairs: the remainder on the first ranks, as siamcl shares a batch."""
    return n // ranks + (rank < n % ranks)


def timed(step, seconds):
    """Seconds per step over about `seconds`: every rank takes as many steps as rank 0's
    estimate from 3 steps after a warm-up says (a rank that stopped early would leave the
    others waiting in their allreduce)."""
    per_step = time_steps(step, 0)  # the warm-up and 3 steps, on every rank alike
    steps = torch.tensor([max(10, int(seconds / max(per_step, 1e-6)))])
    torch.distributed.broadcast(steps, 0)
    start = time.perf_counter()
    for _ in range(int(steps.item())):
        step()
    return (time.perf_counter() - start) / int(steps.item())


def worker(rank, args, port, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=args.ranks)
    torch.set_num_threads(args.threads)
    net, opts, x, y = setup(args.model, share(args.batch, rank, args.ranks),
                            torch.Generator().manual_seed(42 + rank))
    ddp = torch.nn.parallel.DistributedDataParallel(net)

    def train_step():
        for o in opts:
            o.zero_grad()
        F.mse_loss(ddp(x), y).backward()  # DDP averages the ranks' gradients in the backward
        for o in opts:
            o.step()

    seconds = timed(train_step, args.seconds)
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"model": args.model, "batch": args.batch, "ranks": args.ranks,
                       "threads": args.threads, "torch": torch.__version__,
                       "train_ms_per_step": round(1e3 * seconds, 4),
                       "train_pairs_per_s": round(args.batch / seconds, 1)}, f)
    torch.distributed.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", choices=("fashion", "text"), required=True)
    ap.add_argument("--batch", type=int, default=32, help="global pairs per step (default 32)")
    ap.add_argument("--ranks", type=int, default=2, help="processes (default 2)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process (1)")
    ap.add_argument("--seconds", type=float, default=3, help="time the steps this long (3)")
    args = ap.parse_args()
    if args.batch < args.ranks or args.ranks < 1 or args.threads < 1 or args.seconds < 0:
        ap.error("--ranks and --threads must be positive, --batch at least --ranks")
    out = os.path.join("/tmp", f"torch_ddp_steps.{os.getpid()}.json")
    torch.multiprocessing.spawn(worker, (args, free_port(), out), nprocs=args.ranks)
    with open(out) as f:
        print(f.read())
    os.remove(out)


if __name__ == "__main__":
    main()
