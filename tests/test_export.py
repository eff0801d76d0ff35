"""ONNX export: every family's graph, run by ONNX Runtime at batch sizes and lengths it was not traced at
(padding included), equals PyTorch; generated tokens from the two exported graphs equal seqzoo's own."""

import json

import pytest
import torch

from seqzoo.cli import compose_config
from seqzoo.errors import SeqzooError
from seqzoo.export import (
    TRACE_SHAPE,
    OnnxGreedy,
    example,
    export_generative,
    export_sequence_model,
    session,
    source_example,
)
from seqzoo.pretrained import resolve
from seqzoo.tasks.aligned import Aligned
from seqzoo.tasks.many_to_one import ManyToOne
from seqzoo.tasks.seq2seq import Seq2Seq
from tests.conftest import ROOT, config_names, encoder_names, run_cli, small_part
from tests.tolerance import assert_within, chain_depth

pytest.importorskip("onnxruntime")
FAMILIES = encoder_names()
EXPORT = ["-c", "from seqzoo.cli import export_main; export_main()"]  # seqzoo-export, as installed
DECODERS = config_names("decoder")  # every decoder exports


def ort_against_eager(task, path, batch: int, length: int, seed: int) -> None:
    """ONNX Runtime equals PyTorch on a fresh padded batch of the given size: two float32 evaluations of one
    graph, each within the rounding bound of the exact result."""
    x, mask = example(task, batch, length, torch.Generator().manual_seed(seed))
    assert (batch, length) != TRACE_SHAPE and not bool(mask.all()) or batch == 1
    with torch.no_grad():
        expected = task(x, mask)
    got = session(path).run(None, {"inputs": x.numpy(), "mask": mask.numpy()})[0]
    assert_within(
        torch.from_numpy(got),
        expected,
        torch.float32,
        chain_depth(task, length),
        f"ONNX Runtime against eager, {batch} x {length}",
        both=True,
    )


@pytest.mark.parametrize("family", FAMILIES)
# the aligned head over the same backbone graph: with the slow tests (make test-all)
@pytest.mark.parametrize("task_class", [ManyToOne, pytest.param(Aligned, marks=pytest.mark.slow)])
def test_every_family_exports_with_any_batch_and_length(tmp_path, family, task_class):
    torch.manual_seed(0)
    task = task_class(small_part("model", family), num_classes=3, input_size=5).eval()
    export_sequence_model(task, tmp_path / "model.onnx", checks=1)
    ort_against_eager(task, tmp_path / "model.onnx", 3, 17, seed=7)
    ort_against_eager(task, tmp_path / "model.onnx", 1, 6, seed=8)


@pytest.mark.slow
@pytest.mark.parametrize(
    "family,variant",
    [
        ("lstm", {"bidirectional": True, "num_layers": 2}),
        ("mingru", {"bidirectional": True}),
        ("s4d", {"bidirectional": True}),
        ("gru", {"impl": "reference"}),
        ("mamba", {"impl": "reference"}),
    ],
)
def test_bidirectional_and_reference_variants_export(tmp_path, family, variant):
    torch.manual_seed(0)
    backbone = small_part("model", family)
    task = ManyToOne(lambda input_size: backbone(input_size=input_size, **variant), num_classes=3, input_size=5).eval()
    export_sequence_model(task, tmp_path / "model.onnx", checks=1)
    ort_against_eager(task, tmp_path / "model.onnx", 4, 19, seed=3)


def test_token_inputs_export(tmp_path):
    torch.manual_seed(0)
    task = Aligned(small_part("model", "gru"), num_classes=4, input_vocab_size=11, embedding_size=6).eval()
    export_sequence_model(task, tmp_path / "model.onnx", checks=1)
    ort_against_eager(task, tmp_path / "model.onnx", 3, 9, seed=1)


def seq2seq(decoder: str) -> Seq2Seq:
    torch.manual_seed(0)
    return Seq2Seq(
        small_part("model", "gru"),
        small_part("decoder", decoder),
        input_vocab_size=9,
        target_tokens=list("abcde"),
        max_target_length=6,
        embedding_size=8,
    ).eval()


@pytest.mark.parametrize(
    "decoder", [pytest.param(d, marks=pytest.mark.slow) if d in ("rnn", "minlstm") else d for d in DECODERS]
)
def test_seq2seq_exports_as_encoder_and_step_graphs_that_generate_the_same_tokens(tmp_path, decoder):
    task = seq2seq(decoder)
    info = export_generative(task, tmp_path, checks=1)
    assert info["mismatched_tokens"] == 0 and info["step_updates"]
    runner = OnnxGreedy(tmp_path)
    source = source_example(task, 5, 12, torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected, _ = task.generate(source, method="greedy")
    got = runner.generate({k: v.numpy() for k, v in source.items()}, max_length=expected.shape[1])
    assert torch.equal(torch.from_numpy(got), expected)


def test_a_state_onnx_cannot_carry_is_refused_by_name(tmp_path, monkeypatch):
    """A decoder of the user's own whose state holds a Python number (or a complex tensor) is refused with
    the reason, not with the exporter's trace."""
    task = seq2seq("gru")
    init = task.target_decoder.decoder.init_state
    monkeypatch.setattr(task.target_decoder.decoder, "init_state", lambda *a, **k: {**init(*a, **k), "count": 0})
    with pytest.raises(SeqzooError, match=r"step state holds count, which an ONNX graph cannot carry"):
        export_generative(task, tmp_path)


def test_the_command_exports_a_shipped_model_and_describes_it(tmp_path):
    result = run_cli([*EXPORT, "pretrained=japanese_vowels_lstm", f"hydra.run.dir={tmp_path / 'out'}"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    info = json.loads((tmp_path / "out" / "model.json").read_text())
    assert (
        info["mapping"] == "many_to_one"
        and info["max_abs_difference"] <= compose_config(name="export").tolerance
        and len(info["class_names"]) == 9
    )
    assert "ONNX Runtime equals PyTorch within" in result.stdout
    result = run_cli([*EXPORT, "pretrained=reverse_lstm", f"hydra.run.dir={tmp_path / 'rev'}"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "rev" / "model.json").read_text())["mismatched_tokens"] == 0
    assert (tmp_path / "rev" / "encoder.onnx").exists() and (tmp_path / "rev" / "step.onnx").exists()


def test_an_unknown_format_is_refused(tmp_path):
    result = run_cli(
        [*EXPORT, "pretrained=japanese_vowels_lstm", "format=tflite", f"hydra.run.dir={tmp_path / 'out'}"], tmp_path
    )
    assert result.returncode == 2 and "format=tflite is not one seqzoo exports to; use format=onnx" in result.stderr


def test_without_the_extra_the_message_names_it(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_runtime(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_runtime)
    with pytest.raises(SeqzooError, match=r'pip install -e "\.\[export\]"'):
        export_sequence_model(None, ROOT / "never.onnx")


@pytest.mark.parametrize("decoder", ["transformer", "gru"])
def test_one_to_many_exports_from_an_image(tmp_path, decoder):
    from hydra.utils import instantiate

    from seqzoo.train import build_task
    from tests.conftest import make_cfg

    torch.manual_seed(0)
    cfg = make_cfg(tmp_path, ["task=one_to_many", "data=digits_caption", f"decoder={decoder}", "decoder.dropout=0"])
    dm = instantiate(cfg.data)
    dm.prepare_data()
    dm.setup("fit")
    task = build_task(cfg, dm.info).eval()
    assert export_generative(task, tmp_path, checks=2)["mismatched_tokens"] == 0


@pytest.mark.parametrize("failure", ["interrupted", "check fails"])
def test_an_export_that_stops_or_fails_its_check_leaves_no_graph(tmp_path, monkeypatch, failure):
    """Graphs are traced into a staging folder and moved only after the check: an export interrupted while
    tracing, or one whose graph does not reproduce the model, leaves neither a graph nor model.json."""
    from seqzoo import export

    def broken(task, path, checks=3):
        path.write_bytes(b"half a graph")  # what an interrupted writer leaves
        if failure == "interrupted":
            raise KeyboardInterrupt
        return 1.0  # far beyond the tolerance

    monkeypatch.setattr(export, "export_sequence_model", broken)
    cfg = resolve(compose_config(["pretrained=japanese_vowels_lstm"], name="export", output_dir=tmp_path / "out"))
    with pytest.raises(KeyboardInterrupt if failure == "interrupted" else SeqzooError):
        export.run(cfg)
    assert list((tmp_path / "out").iterdir()) == []  # no model.onnx, no model.json, no staging folder
