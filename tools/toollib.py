"""What the benchmark tools share: failing with the tool's name, running a command in the
repository root, installing a peer's Debian packages, describing the machine, and reading a run's
config.ini and writing JSON results."""
import configparser
import json
import os
import platform
import shlex
import subprocess
import sys
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
PYTHON = "/usr/bin/python3"  # Debian's, the one python3-torch and python3-numpy install into


def fail(msg):
    print(f"{os.path.basename(sys.argv[0])}: {msg}", file=sys.stderr)
    sys.exit(2)


def read_ini(path):
    """An INI file as siamcl reads it (';' and '#' comments); OSError or configparser.Error."""
    ini = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";", "#"))
    with open(path, encoding="utf-8") as f:
        ini.read_file(f)
    return ini


def write_json(path, obj):
    """obj as indented JSON (no NaN) and a newline; OSError when path cannot be written."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, allow_nan=False)
        f.write("\n")


def load_json(path):
    """A JSON file; fails naming it when it cannot be read or parsed."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")


def named_row(rows, name, path):
    """The row called name of a results file's rows (path names the file when it has none)."""
    for r in rows:
        if r.get("name") == name:
            return r
    fail(f"{path}: no row named {name}")


def mean_spread(values):
    """'mean ± sample standard deviation' of the values (one value alone; '-' with a None)."""
    if any(v is None for v in values):
        return "-"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{mean:.4f} ± {sd:.4f}"


def run(cmd, env=None, stdin=None):
    """stdout and stderr of cmd (run in the repository root, with env added to the
    environment and the text stdin as its input); fails on a non-zero exit."""
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, input=stdin,
                           env=None if env is None else {**os.environ, **env})
    except OSError as e:
        fail(f"{shlex.join(cmd)}: {e.strerror}")
    if p.returncode:
        last = (p.stderr.strip() or p.stdout.strip() or "no output").splitlines()[-1]
        fail(f"{shlex.join(cmd)} exited with status {p.returncode}: {last}")
    return p.stdout, p.stderr


def ensure_packages(modules, packages):
    """Installs the Debian packages unless Debian's Python imports every module and each
    package is installed already. OpenBLAS belongs in the list wherever a peer multiplies
    matrices: without it Debian's NumPy and PyTorch run on the reference BLAS, many times
    slower, which would make any comparison unfair."""
    probe = subprocess.run([PYTHON, "-c", "; ".join(f"import {m}" for m in modules)],
                           capture_output=True)
    have = all(subprocess.run(["dpkg", "-s", p], capture_output=True).returncode == 0
               for p in packages)
    if probe.returncode == 0 and have:
        return
    tool = os.path.basename(sys.argv[0])
    print(f"{tool}: installing {' '.join(packages)}", file=sys.stderr)
    cmd = ["apt-get", "install", "-y", *packages]
    if os.geteuid() != 0:
        cmd.insert(0, "sudo")
    if subprocess.run(cmd, stdout=sys.stderr).returncode != 0:
        fail(f"`{shlex.join(cmd)}` failed")


# OpenBLAS's kernels by the instructions they need, best first.
OPENBLAS_CORES = (("avx512f", "SkylakeX"), ("avx2", "Haswell"))


def openblas_core(env=None):
    """The kernel set OpenBLAS picks for this CPU under env (openblas_get_corename)."""
    probe = ("import ctypes; lib = ctypes.CDLL('libopenblas.so.0'); "
             "lib.openblas_get_corename.restype = ctypes.c_char_p; "
             "print(lib.openblas_get_corename().decode())")
    return run([PYTHON, "-c", probe], env)[0].strip()


def openblas_env():
    """Environment for a fair OpenBLAS peer, and a line saying what it does. An OpenBLAS older
    than the CPU does not know its model number and falls back to its oldest x86-64 kernels
    (Prescott: SSE3), a quarter of the speed on an AVX-512 machine; OPENBLAS_CORETYPE then
    names the set the CPU's flags allow. A value the user set is kept."""
    detected = openblas_core()
    if "OPENBLAS_CORETYPE" in os.environ:
        return {}, f"OpenBLAS kernels: {detected} (OPENBLAS_CORETYPE set by the user)"
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    best = next((core for flag, core in OPENBLAS_CORES if flag in flags), None)
    if best is None or detected == best or detected not in ("Prescott", "Core2", "Nehalem"):
        return {}, f"OpenBLAS kernels: {detected}"
    env = {"OPENBLAS_CORETYPE": best}
    return env, (f"OpenBLAS kernels: {openblas_core(env)} (OPENBLAS_CORETYPE={best}: "
                 f"on its own OpenBLAS took this CPU for {detected})")


def cpu_busy(seconds=1.0):
    """Cores kept busy over the next `seconds`, from /proc/stat (load from other containers on
    the same cores shows here even where ps does not)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total and idle + iowait, in clock ticks
    (t0, i0), _, (t1, i1) = sample(), time.sleep(seconds), sample()
    return (os.cpu_count() or 1) * (1 - (i1 - i0) / max(t1 - t0, 1))


def machine(device_line, peers):
    """Lines describing the machine: cores, CPU, OpenCL device, PoCL, the peers' versions
    (peers: a string) and the BLAS that libblas.so.3 resolves to."""
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    pocl = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "pocl-opencl-icd"],
                          capture_output=True, text=True).stdout or "unknown"
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    return [f"nproc: {os.cpu_count()}, CPU: {cpu}, {platform.platform()}",
            f"OpenCL device: {device_line or 'unknown'}",
            f"PoCL (pocl-opencl-icd): {pocl}; {peers}; libblas.so.3 -> {blas}"]


def device_of(stderr):
    """The device siamcl announced on stderr ("siamcl: device: ..."), or None."""
    if "device:" not in stderr:
        return None
    return stderr.split("device:", 1)[1].splitlines()[0].strip()
