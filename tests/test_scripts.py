"""The scripts under scripts/ run (tiny settings): benchmarks print their table, diagnostics their plot."""

import json
import os
import subprocess
import sys

import pytest
import torch

from seqzoo.models.interface import run_encoder
from tests.conftest import ROOT, load_script, run_cli
from tests.tolerance import bound, chain_depth


def test_bench_backbones_smoke(tmp_path):
    out = tmp_path / "bench.json"
    result = run_cli(
        [
            str(ROOT / "scripts" / "bench_backbones.py"),
            "--device",
            "cpu",
            "--batch",
            "2",
            "--length",
            "4",
            "--hidden",
            "8",
            "--features",
            "3",
            "--d-model",
            "8",
            "--heads",
            "2",
            "--repeats",
            "1",
            "--iters",
            "1",
            "--out",
            str(out),
            "--results",
            str(tmp_path / "bench_backbones.json"),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "LSTM masked" in result.stdout and "ratio" in result.stdout
    rows = json.loads(out.read_text())["results"]
    assert {r["case"] for r in rows} >= {"RNN", "LSTM", "GRU", "TransformerEncoderLayer"}
    assert all(r["torch.nn_s"] > 0 for r in rows)
    recorded = recorded_rows(tmp_path / "bench_backbones.json", "cpu")  # the docs' results file: same cases, ms
    assert [(r["case"], r["pass"]) for r in recorded] == [(r["case"], r["pass"]) for r in rows]
    assert all(r["torch.nn ms"] == round(1e3 * raw["torch.nn_s"], 3) for r, raw in zip(recorded, rows))


def test_diagnose_gradient_flow_smoke(tmp_path):
    png = tmp_path / "flow.png"
    result = run_cli(
        [
            str(ROOT / "scripts" / "diagnose.py"),
            "gradient_flow",
            "model=rnn,lstm:forget_bias=1.0",
            "data=adding",
            "data.length=40",
            "data.n_train=8",
            "data.n_val=8",
            "data.n_test=8",
            "model.hidden_size=8",
            "--out",
            str(png),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "model=lstm model.forget_bias=1.0" in result.stdout and png.read_bytes()[:4] == b"\x89PNG"


def test_diagnose_hidden_states_of_a_trained_lstm(tmp_path):
    from seqzoo.train import train
    from tests.conftest import make_cfg

    out = tmp_path / "run"
    train(make_cfg(out, ["model.hidden_size=8", "debug=limit", "logger=csv"]))
    png = tmp_path / "hidden.png"
    result = run_cli(
        [str(ROOT / "scripts" / "diagnose.py"), "hidden", f"ckpt={out}/checkpoints/best.ckpt", "--out", str(png)],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_diagnose_memory_horizon_smoke(tmp_path):
    png = tmp_path / "memory.png"
    result = run_cli(
        [
            str(ROOT / "scripts" / "diagnose.py"),
            "memory",
            "model=gru",
            "model.hidden_size=8",
            "--lengths",
            "5,10",
            "--steps",
            "3",
            "--out",
            str(png),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = [l for l in result.stdout.splitlines() if "recall accuracy" in l]
    assert len(lines) == 2 and all(0 <= float(l.split()[-1]) <= 1 for l in lines)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_bench_train_smoke(tmp_path):
    out = tmp_path / "train.json"
    result = run_cli(
        [
            str(ROOT / "scripts" / "bench_train.py"),
            "--models",
            "gru,tcn",
            "--steps",
            "4",
            "--warmup",
            "1",
            "--repeats",
            "1",
            "--batch",
            "4",
            "--length",
            "12",
            "--lengths",
            "8,16",
            "--batch-for-lengths",
            "2",
            "--plot",
            str(tmp_path / "t.png"),
            "--out",
            str(out),
            "--as-run",
            "--results",
            str(tmp_path / "r.json"),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(out.read_text())
    for model in ("gru", "tcn"):
        row = data["train"][model]
        assert row["seqzoo_steps_per_s"] > 0 and row["plain_steps_per_s"] > 0
        assert abs(row["ratio"] - row["plain_steps_per_s"] / row["seqzoo_steps_per_s"]) < 1e-9
        assert (
            abs(row["paired_ratio"] - row["plain_runs"][0] / row["seqzoo_runs"][0]) < 1e-9
        )  # one repeat: its own ratio
        assert [t for t, _ in data["throughput"][model]] == [8, 16]
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    assert [r["model"] for r in recorded_rows(tmp_path / "r.json", "cpu")] == ["gru", "tcn"]
    assert [(r["model"], r["T"]) for r in recorded_rows(tmp_path / "r.json", "cpu_lengths")] == [
        ("gru", 8),
        ("gru", 16),
        ("tcn", 8),
        ("tcn", 16),
    ]


def recorded_rows(path, label: str) -> list[dict]:
    """The rows a script recorded as run ``label`` of a results file, after checking the file says how they were
    made."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from results import load

    run = next(r for r in load(path)["runs"] if r["label"] == label)
    assert run["command"].startswith("python ") and run["versions"]["torch"] and run["machine"]
    return run["rows"]


def test_bench_decoding_smoke(tmp_path):
    out = tmp_path / "dec.json"
    result = run_cli(
        [
            str(ROOT / "scripts" / "bench_decoding.py"),
            "--decoders",
            "gru,tcn,transformer",
            "--length",
            "6",
            "--batch",
            "2",
            "--beam",
            "2",
            "--repeats",
            "1",
            "--width",
            "16",
            "--latency-at",
            "2,9",
            "--out",
            str(out),
            "--results",
            str(tmp_path / "r.json"),
            "--label",
            "smoke",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]  # the script also checks both ways give the same tokens
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"gru", "tcn", "transformer"} and all(r["greedy inc"] > 0 for r in results.values())
    assert all(set(r["step_ms"]) == {"2", "9"} and min(r["step_ms"].values()) > 0 for r in results.values())
    assert {r["decoder"]: r["greedy incremental tok/s"] for r in recorded_rows(tmp_path / "r.json", "smoke")} == {
        k: round(r["greedy inc"]) for k, r in results.items()
    }


def test_bench_forecast_smoke(tmp_path):
    """A shipped series by its frequency's rule, as a user's CSV: baselines and families on the same windows."""
    out = tmp_path / "forecast"
    result = run_cli(
        [
            str(ROOT / "scripts" / "bench_forecast.py"),
            "--suite",
            "wineind",
            "--baselines",
            "naive,seasonal naive,Theta,Holt-Winters",
            "--models",
            "gru,dlinear",
            "--max-time",
            "00:00:00:03",
            "--threads",
            "1",
            "--out",
            str(out),
        ],
        tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads((out / "results.json").read_text())["wineind"]
    assert set(rows) == {"naive", "seasonal naive", "Theta", "Holt-Winters", "gru", "dlinear"}
    assert rows["seasonal naive"]["mase"] < rows["naive"]["mase"]  # a seasonal series: repeating last year helps
    # a run cut short is recorded from its results.json, without running anything again
    recorded = tmp_path / "bench_forecast.json"
    args = ["--out", str(out), "--record-only", "python scripts/bench_forecast.py --suite wineind ..."]
    result = run_cli([str(ROOT / "scripts" / "bench_forecast.py"), *args, "--results", str(recorded)], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    runs = {r["label"]: r for r in json.loads(recorded.read_text())["runs"]}
    assert runs["cpu"]["command"].endswith("--suite wineind ...")
    assert {(r["data"], r["method"]) for r in runs["cpu"]["rows"]} == {("wineind", m) for m in rows}
    assert {r["method"] for r in runs["cpu-summary"]["rows"]} == set(rows)  # one summary row per method
    assert 0 <= rows["Theta"]["coverage80"] <= 1 and rows["gru"]["seconds"] > 0 and "mase" in rows["dlinear"]
    config = (out / "runs" / "wineind" / "dlinear" / "config.yaml").read_text()
    assert "horizon: 18" in config and "season: 12" in config and "context: 36" in config  # the monthly rule
    table = (out / "table.md").read_text()
    assert "summary over 1 series (wineind)" in table and "| Theta |" in table


@pytest.mark.slow
def test_gpu_check_runs_every_step_and_records_how_each_ended(tmp_path):
    """The same script at toy sizes on this CPU: every step's JSON and table appear, the CUDA tests are
    skipped with their reason, the summary lists each step."""
    env = dict(os.environ, DEVICE="cpu", QUICK="1", PYTHON=sys.executable)
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu_check.sh"), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    summary = (tmp_path / "summary.md").read_text()
    for name in ("cuda_tests", "bench_backbones", "bench_train", "bench_long", "bench_compile"):
        assert f"- {name}: passed" in summary
    for name in ("bench_backbones", "bench_train", "bench_long", "bench_compile"):
        assert json.loads((tmp_path / f"{name}.json").read_text())
    assert "needs a CUDA GPU" in (tmp_path / "cuda_tests.md").read_text()


@pytest.mark.slow
def test_bench_compile_smoke(tmp_path):
    result = run_cli(
        [
            str(ROOT / "scripts" / "bench_compile.py"),
            "--families",
            "tcn",
            "--length",
            "8",
            "--steps",
            "3",
            "--features",
            "32",
            "--repeats",
            "1",
            "--out",
            str(tmp_path / "c.json"),
        ],
        tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    row = json.loads((tmp_path / "c.json").read_text())["rows"]["tcn"]
    script = load_script("bench_compile")
    for case, model, steps in (
        ("encoder", script.part("model", "tcn", input_size=32), 8),
        ("decoder_step", script.part("decoder", "tcn", input_size=32, memory_size=32, condition_size=32), 3),
    ):
        measured = row[case]
        tol = bound(
            None, torch.float32, chain_depth(model, steps), both=True, scale=max(1.0, measured["largest_magnitude"])
        )
        assert measured["max_abs_difference"] <= tol, (
            f"tolerance broken: compiled tcn {case}: {measured['max_abs_difference']:.3g} > {tol:.3g}"
        )
    assert row["encoder"]["compile_s"] > 0 and "| tcn |" in (tmp_path / "c.md").read_text()


def test_bench_scan_blocks_smoke(tmp_path):
    result = run_cli(
        [
            str(ROOT / "scripts" / "bench_scan_blocks.py"),
            "--lengths",
            "9,5000",
            "--rounds",
            "1",
            "--width",
            "2",
            "--batch",
            "1",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith(("| 9 |", "| 5000 |"))]
    assert len(rows) == 2 and all(line.endswith("x |") for line in rows)


def test_bench_long_runs_a_family_with_and_without_its_module_settings(tmp_path):
    out = tmp_path / "long.json"
    models = "mingru,mingru@elements=1e12,s4d@relayout=view"
    result = run_cli(
        [
            str(ROOT / "scripts" / "bench_long.py"),
            "--models",
            models,
            "--lengths",
            "300",
            "--rounds",
            "2",
            "--width",
            "4",
            "--batch",
            "1",
            "--out",
            str(out),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    row = json.loads(out.read_text())["lengths"]["300"]
    assert set(row) == set(models.split(",")) and all(r["tokens_per_s"] > 0 for r in row.values())


def test_bench_long_gives_the_transformer_positions_past_its_configured_max_len():
    """The GPU run stopped at T=16384: the Transformer's position table ended at its config's 4096."""
    bench = load_script("bench_long")
    net = bench.build("transformer", 8, 3, 5000)
    assert net.max_len >= 5000 and bench.build("transformer", 8, 3, 100).max_len == 4096
    assert run_encoder(net, torch.randn(1, 5000, 3)).shape == (1, 5000, 8)


def test_bench_compile_records_a_family_that_fails_and_goes_on(tmp_path, monkeypatch, capsys):
    """On the GPU (torch 2.11) one family's compile raised and the whole benchmark stopped with no table."""
    bench = load_script("bench_compile")
    real = bench.family_row

    def row(name, args):
        if name == "gru":
            raise RuntimeError("cannot compile this\nsecond line")
        return real(name, args)

    monkeypatch.setattr(bench, "family_row", row)
    out = tmp_path / "c.json"
    assert (
        bench.main(["--families", "gru,tcn", "--length", "8", "--steps", "2", "--repeats", "1", "--out", str(out)]) == 0
    )
    rows = json.loads(out.read_text())["rows"]
    assert (
        rows["gru"] == {"error": "RuntimeError: cannot compile this ... second line"}
        and rows["tcn"]["encoder"]["compile_s"] > 0
    )
    assert "| gru | fails: RuntimeError: cannot compile this ... second line |" in out.with_suffix(".md").read_text()
    with pytest.raises(SystemExit):
        bench.main(["--families", "gruu"])
    assert "unknown families ['gruu']" in capsys.readouterr().err


def test_count_ops_shows_the_gpu_path_of_mambas_scan_launching_fewer_operations(tmp_path):
    result = run_cli(
        [
            str(ROOT / "scripts" / "count_ops.py"),
            "--models",
            "mamba,mamba:parallel=true",
            "--length",
            "1000",
            "--width",
            "8",
            "--results",
            str(tmp_path / "ops.json"),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    counts = {
        line.split("|")[1].strip(): int(line.split("|")[2].replace(",", ""))
        for line in result.stdout.splitlines()
        if line.startswith("| mamba")
    }
    assert counts["mamba:parallel=true"] < counts["mamba"] / 2
    assert {r["model"]: r["operations"] for r in recorded_rows(tmp_path / "ops.json", "cpu")} == counts


@pytest.mark.slow
def test_bench_listops_runs_each_family_and_records_its_accuracy(tmp_path):
    """The real command per family and seed, on a tiny ListOps, recorded with its preset."""
    from tests.data.fixtures import data_overrides

    small = [f"--override={o}" for o in data_overrides("listops", tmp_path)]
    recorded = tmp_path / "bench_listops.json"
    args = ["--models", "lru,mlstm", "--seeds", "0", "--out", str(tmp_path / "out"), "--results", str(recorded)]
    tiny = ["--override=trainer.max_epochs=1", "--override=model.target_params=null", "--override=model.d_model=16"]
    result = run_cli([str(ROOT / "scripts" / "bench_listops.py"), *args, *small, *tiny], tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    run = json.loads(recorded.read_text())["runs"][0]
    assert run["label"] == "listops_cpu" and run["settings"]["preset"] == "listops_cpu"
    assert [r["model"] for r in run["rows"]] == ["lru", "mlstm"]
    assert all(0 <= r["test accuracy %"] <= 100 and r["steps"] > 0 for r in run["rows"]), run["rows"]
