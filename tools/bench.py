#!/usr/bin/env python3
"""Time every chapter and measure its kernel's peak memory.

Each notebook runs top to bottom in a fresh kernel (the Python running this tool, so the
project's virtual environment), with the notebook's folder as working directory, inside
its own worker process: once the kernel has exited, the worker's
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is the kernel's peak resident memory. The
executed notebook is not written back.

Usage:
    python tools/bench.py chapters [--budget 60] [--memory-budget MIB] [--json PATH]

Prints a table (chapter, seconds, peak memory in MiB, within budget) and exits with
status 1 if a chapter failed or ran over budget. ``--json PATH`` also writes the results,
with the machine they were measured on, to PATH (``tools/bench_results.json`` is the file
that ``tools/instructors.py`` reads for the instructors' page).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from setup_cell import find_notebooks

KERNEL_NAME = "python3"
CELL_TIMEOUT = 600
#: Printed by the probe cell appended after the notebook, to confirm which Python ran it.
PROBE_SOURCE = 'print(__import__("sys").executable)'
#: Terminal colour codes, as in the tracebacks that nbclient reports.
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


class VenvKernelManager(AsyncKernelManager):
    """A kernel manager whose "python3" kernel is always this interpreter (``sys.executable``).

    The installed "python3" kernelspec runs whatever ``python`` jupyter_client resolves;
    pinning the command removes the doubt: the kernel is the Python running this tool.
    """

    @property
    def kernel_spec(self) -> KernelSpec:
        """The kernelspec of this interpreter's ipykernel."""
        if self._kernel_spec is None:
            try:  # keep the installed spec's metadata (debugger, supported encryption)
                installed = self.kernel_spec_manager.get_kernel_spec(KERNEL_NAME)
                metadata, env = dict(installed.metadata), dict(installed.env)
            except Exception:  # noqa: BLE001 - no installed spec: the defaults will do
                metadata, env = {}, {}
            self._kernel_spec = KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=f"Python 3 ({sys.executable})",
                language="python",
                name=KERNEL_NAME,
                metadata=metadata,
                env=env,
            )
        return self._kernel_spec


def execute_notebook(
    nb: nbformat.NotebookNode,
    cwd: Path | str,
    allow_errors: bool = False,
    timeout: int = CELL_TIMEOUT,
) -> str:
    """Execute ``nb`` in place, top to bottom, in a fresh kernel of this interpreter.

    Args:
        nb: the notebook; its outputs are replaced.
        cwd: the kernel's working directory.
        allow_errors: keep going after a cell raises (its error becomes an output).
        timeout: seconds allowed per cell.

    Returns:
        The kernel's ``sys.executable``, printed by a probe cell run after the notebook
        (and removed from it).

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised and ``allow_errors`` is False.
    """
    probe = nbformat.v4.new_code_cell(PROBE_SOURCE)
    nb.cells.append(probe)
    try:
        NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=KERNEL_NAME,
            kernel_manager_class=VenvKernelManager,
            allow_errors=allow_errors,
            resources={"metadata": {"path": str(cwd)}},
        ).execute()
    finally:
        nb.cells.remove(probe)
    return "".join(out.get("text", "") for out in probe.outputs).strip()


def run_one(path: Path) -> dict[str, object]:
    """Execute one notebook (the worker's job) and measure it.

    Returns:
        ``seconds`` (wall time, kernel start to shutdown), ``peak_mib`` (the kernel's peak
        resident memory), ``kernel_python`` and ``error`` (None when the run succeeded).
    """
    nb = nbformat.read(path, as_version=4)
    error: str | None = None
    kernel_python = ""
    start = time.perf_counter()
    try:
        kernel_python = execute_notebook(nb, cwd=path.parent)
    except Exception as exc:  # noqa: BLE001 - reported in the table, not raised
        message = ANSI_RE.sub("", str(exc)).strip()
        error = f"{type(exc).__name__}: {message.splitlines()[-1] if message else ''}"
    seconds = time.perf_counter() - start
    if error is None and Path(kernel_python) != Path(sys.executable):
        error = f"the kernel ran {kernel_python!r}, not {sys.executable!r}"
    # Linux reports ru_maxrss in KiB; the kernel has exited and been reaped by now.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mib": peak_mib, "kernel_python": kernel_python, "error": error}


def bench(path: Path) -> dict[str, object]:
    """Run :func:`run_one` for ``path`` in a fresh worker process and return its result."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", str(path)],
        capture_output=True,
        text=True,
    )
    lines = proc.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return {"seconds": float("nan"), "peak_mib": float("nan"), "kernel_python": "", "error": f"worker failed: {tail}"}


def results_document(rows: list[dict[str, object]], budget: float, load_before: tuple[float, float, float]) -> dict[str, object]:
    """The JSON document ``--json`` writes: the machine and each chapter's result.

    Args:
        rows: one dict per chapter: ``notebook`` (its path, relative to the repository when
            inside it), ``seconds``, ``peak_mib``, ``error``.
        budget: the seconds allowed per chapter.
        load_before: ``os.getloadavg()`` before the first chapter ran.
    """
    try:
        torch_version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        torch_version = None
    return {
        "measured": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_count": os.cpu_count(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "torch": torch_version,
        "budget_s": budget,
        "chapters": rows,
    }


def _number(value: object, digits: int) -> float | None:
    """``value`` rounded to ``digits``, or None when it is not a finite number (a failed worker)."""
    number = float(value)  # type: ignore[arg-type]
    if number != number or abs(number) == float("inf"):
        return None
    return round(number, digits) if digits else round(number)


def _relative(path: Path) -> str:
    """``path`` relative to the repository, as POSIX text, when it lies inside it."""
    resolved = path.resolve()
    root = Path(__file__).resolve().parents[1]
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", type=Path, default=[Path("chapters")], help="notebooks or folders (default: chapters)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds allowed per chapter (default: 60)")
    parser.add_argument("--memory-budget", type=float, default=None, help="peak MiB allowed per chapter (default: no limit)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(run_one(args.worker)))
        return 0

    notebooks = find_notebooks(args.targets)
    if not notebooks:
        print(f"bench: no notebooks in {', '.join(map(str, args.targets))}")
        return 0
    print(f"kernel: {sys.executable}; budget {args.budget:g} s per chapter"
          + (f", {args.memory_budget:g} MiB" if args.memory_budget else ""))
    width = max(len("chapter"), *(len(str(p)) for p in notebooks))
    print(f"{'chapter':<{width}}  {'seconds':>8}  {'peak MiB':>9}  within budget")
    failed = False
    rows: list[dict[str, object]] = []
    load_before = os.getloadavg()
    for path in notebooks:
        result = bench(path)
        rows.append({"notebook": _relative(path), "seconds": _number(result["seconds"], 1),
                     "peak_mib": _number(result["peak_mib"], 0), "error": result["error"]})
        seconds, peak = float(result["seconds"]), float(result["peak_mib"])
        ok = result["error"] is None and seconds <= args.budget
        if args.memory_budget is not None:
            ok = ok and peak <= args.memory_budget
        verdict = "yes" if ok else "no"
        if result["error"]:
            verdict += f"  FAILED: {result['error']}"
        print(f"{str(path):<{width}}  {seconds:8.1f}  {peak:9.0f}  {verdict}", flush=True)
        failed |= not ok
    if args.json is not None:
        args.json.write_text(json.dumps(results_document(rows, args.budget, load_before), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
