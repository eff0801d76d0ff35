"""``seqzoo-export``: a trained model leaves Python as ONNX graphs that ONNX Runtime runs.

Many-to-one and aligned tasks become one graph: ``inputs`` (B, T, C) float32, or (B, T) int64 token ids,
and ``mask`` (B, T) bool (True = real step, right-padded) -> ``outputs`` (B, classes | targets) or
(B, T, classes | targets), for any batch and length (up to the backbone's ``max_len``). Seq2seq and
one-to-many become two graphs (``export_generative``): the encoder and the decoder's ``step``, driven by
``OnnxGreedy``, a greedy loop over ONNX Runtime.

Families take their export-friendly paths while torch.export traces (``layers.time_loop``): recurrences as one
ONNX ``Scan`` over time, S4D's kernel in real arithmetic. Nothing is written off unchecked: every export is
run by ONNX Runtime at batch sizes and lengths it was not traced at, with padding, against PyTorch, and the
largest difference is reported (and must stay within ``tolerance``).
"""

import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.utils._pytree import keystr, tree_flatten, tree_flatten_with_path, tree_unflatten

from seqzoo.atomic import write_text
from seqzoo.data.batch import CONDITION, INPUT_MASK, INPUTS
from seqzoo.data.vocab import BOS_ID, EOS_ID, PAD_ID
from seqzoo.errors import SeqzooError

EXPORT_EXTRA = 'pip install -e ".[export]"'
TRACE_SHAPE = (2, 8)  # the example batch and length traced; checks use others


def onnx_runtime():
    try:
        import onnxruntime
    except ImportError:
        raise SeqzooError(f"exporting to ONNX needs onnx, onnxscript and onnxruntime: {EXPORT_EXTRA}") from None
    return onnxruntime


class SequenceGraph(nn.Module):
    """What the graph computes: the task's own forward, inputs and mask -> outputs."""

    def __init__(self, task: nn.Module):
        super().__init__()
        self.task = task

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.task(inputs, mask)


def padding(batch: int, length: int, generator: torch.Generator) -> torch.Tensor:
    """A mask (B, T) of rows of random lengths, the first full: what a right-padded batch looks like."""
    lengths = torch.randint(1, length + 1, (batch,), generator=generator)
    lengths[0] = length
    return torch.arange(length)[None, :] < lengths[:, None]


def example(task: nn.Module, batch: int, length: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random inputs the task reads, (B, T, C) features or (B, T) token ids, right-padded, and their mask (B, T)."""
    mask = padding(batch, length, generator)
    embedding = task.embed.embedding
    if embedding is not None:
        x = torch.randint(PAD_ID + 1, embedding.num_embeddings, (batch, length), generator=generator)
        return x.masked_fill(~mask, PAD_ID), mask
    x = torch.randn(batch, length, task.embed.output_size, generator=generator)
    return x * mask.unsqueeze(-1), mask


def trace(module: nn.Module, args: tuple, dynamic_shapes, path: Path, inputs: list[str], outputs: list[str]) -> None:
    """torch.export -> ONNX at ``path`` with named inputs and outputs; the exporter's progress lines are kept
    out of the user's console."""
    module = module.eval().requires_grad_(False)  # inference graphs (torch's scan would record its backward)
    for name in ("torch.onnx", "onnx_ir", "onnxscript"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module,
            args,
            dynamo=True,
            dynamic_shapes=dynamic_shapes,
            verbose=False,
            input_names=inputs,
            output_names=outputs,
        )
    program.save(str(path))


def session(path: Path):
    ort = onnx_runtime()
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: the exporter leaves a few unused constants ORT warns about
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export_sequence_model(task: nn.Module, path: Path, checks: int = 3) -> float:
    """Many-to-one or aligned task -> ONNX at ``path``; -> the largest |ONNX Runtime - PyTorch| over
    ``checks`` random padded batches of sizes and lengths other than the traced ones."""
    onnx_runtime()
    from torch.export import Dim

    limit = task.longest_input()
    length = Dim("length", min=1, max=limit) if limit else Dim("length", min=1)
    dims = {0: Dim("batch", min=1), 1: length}
    generator = torch.Generator().manual_seed(0)
    graph = SequenceGraph(task).eval()
    trace(
        graph,
        example(task, *TRACE_SHAPE, generator),
        {"inputs": dims, "mask": dims},
        path,
        ["inputs", "mask"],
        ["outputs"],
    )
    runner, worst = session(path), 0.0
    shapes = [(3, 13), (1, 5), (4, 21)][:checks]
    for batch, steps in shapes:
        steps = min(steps, limit) if limit else steps
        x, mask = example(task, batch, steps, generator)
        with torch.no_grad():
            expected = graph(x, mask)
        got = runner.run(None, {"inputs": x.numpy(), "mask": mask.numpy()})[0]
        worst = max(worst, float((torch.from_numpy(got) - expected).abs().max()))
    return worst


def describe_sequence_model(task: nn.Module) -> dict:
    """The graph's interface, for model.json beside the .onnx file."""
    tokens = task.embed.embedding is not None
    return {
        "inputs": {
            "inputs": "(B, T) int64 token ids" if tokens else f"(B, T, {task.embed.output_size}) float32",
            "mask": "(B, T) bool, True at real steps, right-padded",
        },
        "outputs": {"outputs": "(B, T, K)" if task.mapping == "aligned" else "(B, K)"},
        "max_length": task.longest_input(),
        "class_names": getattr(task, "class_names", None),
    }


def write_description(path: Path, info: dict) -> Path:
    meta = path.with_suffix(".json")
    write_text(meta, json.dumps(info, indent=1) + "\n")
    return meta


# ---- seq2seq and one-to-many: the encoder and the decoder's step as two graphs ---------------------------


def source_names(task: nn.Module) -> list[str]:
    """The batch keys ``task.encode`` reads, which become the encoder graph's inputs."""
    return [INPUTS, INPUT_MASK] if task.mapping == "seq2seq" else [CONDITION]


def source_example(task: nn.Module, batch: int, length: int, generator: torch.Generator) -> dict:
    """A random source batch: token sequences of different lengths (seq2seq) or conditions (one-to-many)."""
    if task.mapping == "seq2seq":
        mask = padding(batch, length, generator)  # (B, S)
        tokens = torch.randint(
            PAD_ID + 1, task.source_embedding.embedding.num_embeddings, (batch, length), generator=generator
        )
        return {INPUTS: tokens.masked_fill(~mask, PAD_ID), INPUT_MASK: mask}
    return {CONDITION: torch.randn(batch, *task.condition_shape, generator=generator)}


def flat_state(state) -> dict[str, object]:
    """A decoder state (nested dicts, lists, tuples of tensors) -> {name: leaf} in flattening order, named by
    their place in it (``rnn.0``, ``memory``); absent parts (None) stay, as None."""
    leaves, _ = tree_flatten_with_path(state)
    return {
        keystr(path).strip("[]'").replace("']['", ".").replace("'][", ".").replace("][", "."): leaf
        for path, leaf in leaves
    }


class EncoderGraph(nn.Module):
    """Source -> the decoder's initial state, flattened to the tensors listed in ``paths``."""

    def __init__(self, task: nn.Module, paths: list[str]):
        super().__init__()
        self.task, self.paths = task, paths

    def forward(self, *source: torch.Tensor) -> tuple[torch.Tensor, ...]:
        state = self.task.target_decoder.init_state(*self.task.encode(dict(zip(source_names(self.task), source))))
        leaves = flat_state(state)
        return tuple(leaves[p] for p in self.paths)  # the tensors only


class StepGraph(nn.Module):
    """(previous tokens (B,), the state's tensors) -> (log-probabilities (B, V), the tensors that changed)."""

    def __init__(self, task: nn.Module, spec, every: list[str], paths: list[str], changing: list[str]):
        super().__init__()
        self.task, self.spec, self.every, self.paths, self.changing = task, spec, every, paths, changing

    def forward(self, tokens: torch.Tensor, *leaves: torch.Tensor) -> tuple[torch.Tensor, ...]:
        given = dict(zip(self.paths, leaves))  # the absent parts (None) go back in their places
        log_probs, state = self.task.target_decoder.step(
            tokens, tree_unflatten([given.get(p) for p in self.every], self.spec)
        )
        new = flat_state(state)
        return (log_probs, *(new[p] for p in self.changing))


def state_layout(task: nn.Module) -> tuple:
    """Run the decoder eagerly at two batch sizes and source lengths to learn, for every tensor of its state,
    which dimensions follow the batch, the source length or the steps taken (a Transformer's key/value
    cache), and which tensors a step changes.
    -> (pytree spec, every leaf's name, the tensors' names, those a step changes,
        {name: {dim: "batch" | "source" | "steps"}})"""
    generator = torch.Generator().manual_seed(0)
    runs = []
    for batch, length in ((2, 7), (3, 9)):
        with torch.no_grad():
            state = task.target_decoder.init_state(*task.encode(source_example(task, batch, length, generator)))
            before = flat_state(state)
            leaves, spec = tree_flatten(state)
            _, after = task.target_decoder.step(torch.full((batch,), BOS_ID), tree_unflatten(leaves, spec))
        runs.append((before, flat_state(after), spec))
    (first, stepped, spec), (second, _, _) = runs
    odd = [p for p, v in first.items() if v is not None and (not isinstance(v, torch.Tensor) or v.is_complex())]
    if odd:
        raise SeqzooError(
            f"{type(task.target_decoder.decoder).__name__}'s step state holds {', '.join(odd)}, which an ONNX "
            "graph cannot carry between steps (a Python number or complex numbers); keep a decoder's "
            "state in real tensors (every decoder in configs/decoder does)"
        )
    paths = [p for p, v in first.items() if v is not None]
    changing = [p for p in paths if stepped.get(p) is not first[p]]
    dims = {}
    for p in paths:
        a, b = first[p].shape, second[p].shape
        dims[p] = {d: ("batch" if (x, y) == (2, 3) else "source") for d, (x, y) in enumerate(zip(a, b)) if x != y}
        dims[p].update({d: "steps" for d, (x, y) in enumerate(zip(a, stepped[p].shape)) if x != y})
    return spec, list(first), paths, changing, dims


def export_generative(task: nn.Module, folder: Path, checks: int = 3) -> dict:
    """Seq2seq or one-to-many task -> ``encoder.onnx`` and ``step.onnx`` in ``folder``; -> a description with
    the state's tensors and the check: greedy decoding over ONNX Runtime (``OnnxGreedy``) against
    ``task.generate`` on ``checks`` fresh batches, tokens compared one by one."""
    onnx_runtime()
    from torch.export import Dim

    task = task.eval().requires_grad_(False)
    spec, every, paths, changing, dims = state_layout(task)
    named = {"batch": Dim("batch", min=1), "source": Dim("source", min=1), "steps": Dim("steps", min=0)}
    generator = torch.Generator().manual_seed(1)
    source = source_example(task, *TRACE_SHAPE, generator)
    source_dims = {
        INPUTS: {0: named["batch"], 1: named["source"]},
        INPUT_MASK: {0: named["batch"], 1: named["source"]},
        CONDITION: {0: named["batch"]},
    }
    encoder = EncoderGraph(task, paths)
    trace(
        encoder,
        tuple(source.values()),
        (tuple(source_dims[k] for k in source),),  # one entry: *source
        folder / "encoder.onnx",
        list(source),
        paths,
    )
    with torch.no_grad():
        leaves = encoder(*source.values())
        tokens = torch.full((TRACE_SHAPE[0],), BOS_ID)
        state = tree_unflatten([dict(zip(paths, leaves)).get(p) for p in every], spec)
        for _ in range(2):  # traced two steps in: a cache that grows is not traced at the sizes 0 and 1 it starts at
            _, state = task.target_decoder.step(tokens, state)
        leaves = tuple(flat_state(state)[p] for p in paths)
    step = StepGraph(task, spec, every, paths, changing)
    leaf_dims = tuple({d: named[n] for d, n in dims[p].items()} for p in paths)
    trace(
        step,
        (tokens, *leaves),
        ({0: named["batch"]}, leaf_dims),
        folder / "step.onnx",
        ["tokens", *paths],
        ["log_probs", *(f"next.{p}" for p in changing)],
    )
    info = {
        "encoder_inputs": source_names(task),
        "state": paths,
        "step_updates": changing,
        "step_inputs": ["tokens", *paths],
        "step_outputs": ["log_probs", *(f"next.{p}" for p in changing)],
    }
    write_text(folder / "graphs.json", json.dumps(info, indent=1) + "\n")
    runner, mismatched = OnnxGreedy(folder), 0
    for batch, length in [(3, 13), (1, 5), (4, 21)][:checks]:
        src = source_example(task, batch, length, generator)
        with torch.no_grad():
            expected, _ = task.generate(src, method="greedy")
        got = runner.generate({k: v.numpy() for k, v in src.items()}, max_length=expected.shape[1])
        mismatched += (
            int((torch.from_numpy(got) != expected).sum()) if got.shape == expected.shape else expected.numel()
        )
    return {**info, "mismatched_tokens": mismatched}


class OnnxGreedy:
    """Greedy decoding with the two graphs in ``folder``, on ONNX Runtime: the encoder once, then the step
    graph token by token, the state's changing tensors fed back (seqzoo's own ``decoding.greedy`` drives it)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.info = json.loads((self.folder / "graphs.json").read_text())
        self.encoder, self.stepper = session(self.folder / "encoder.onnx"), session(self.folder / "step.onnx")

    def generate(self, source: dict, max_length: int = 50):
        """source: numpy arrays by name (``inputs`` and ``input_mask``, or ``condition``) -> tokens (B, L),
        eos-terminated, as numpy."""
        from seqzoo.tasks.decoding import greedy

        state = dict(
            zip(self.info["state"], self.encoder.run(None, {k: source[k] for k in self.info["encoder_inputs"]}))
        )

        def step(tokens: torch.Tensor, state: dict):
            log_probs, *updates = self.stepper.run(None, {"tokens": tokens.numpy(), **state})
            return torch.from_numpy(log_probs), {**state, **dict(zip(self.info["step_updates"], updates))}

        batch = next(iter(source.values())).shape[0]
        tokens, _ = greedy(step, state, batch, BOS_ID, EOS_ID, max_length, torch.device("cpu"))
        return tokens.numpy()


def run(cfg) -> Path:
    """The ``seqzoo-export`` command: checkpoint (or pretrained name) -> ONNX graphs, checked, in the output
    folder, with ``model.json`` describing them."""
    import seqzoo
    from seqzoo.config_checks import check_config
    from seqzoo.run_dirs import check_new
    from seqzoo.train import restore

    check_config(cfg)
    if cfg.format != "onnx":
        raise SeqzooError(f"format={cfg.format} is not one seqzoo exports to; use format=onnx")
    onnx_runtime()
    folder = Path(cfg.paths.output_dir)
    check_new(folder, bool(cfg.get("overwrite")))
    folder.mkdir(parents=True, exist_ok=True)
    _, _, task = restore(cfg)
    task = task.cpu().eval()
    if task.mapping not in ("many_to_one", "aligned", "seq2seq", "one_to_many"):
        raise SeqzooError(
            f"{task.mapping} models do not export to ONNX yet: many_to_one, aligned, seq2seq and one_to_many do"
        )
    info = {
        "seqzoo_version": seqzoo.__version__,
        "source": cfg.get("pretrained") or str(cfg.ckpt_path),
        "mapping": task.mapping,
    }
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))  # graphs are traced and checked here first
    try:
        if task.mapping in ("many_to_one", "aligned"):
            worst = export_sequence_model(task, staging / "model.onnx")
            info.update(describe_sequence_model(task), graph="model.onnx", max_abs_difference=worst)
            said = (
                f"ONNX Runtime equals PyTorch within {worst:.1e} on padded batches of sizes and lengths it was not "
                "traced at"
            )
            failed = (
                worst > cfg.tolerance
                and f"ONNX Runtime differs from PyTorch by {worst:.1e} (tolerance={cfg.tolerance})"
            )
        else:
            info.update(
                export_generative(task, staging), graphs=["encoder.onnx", "step.onnx"], vocabulary=task.vocab.tokens
            )
            said = (
                f"greedy decoding over ONNX Runtime (seqzoo.export.OnnxGreedy) differs from PyTorch's in "
                f"{info['mismatched_tokens']} tokens"
            )
            failed = info["mismatched_tokens"] > 0 and said
        if failed:  # nothing is left in the output folder: a graph that does not reproduce the model is not a result
            raise SeqzooError(
                f"the exported graph does not reproduce the model: {failed}; nothing was written. "
                "Please report it with the checkpoint"
            )
        for made in sorted(staging.iterdir()):  # renames within one folder: each graph arrives whole
            os.replace(made, folder / made.name)
        write_description(folder / "model.onnx", info)  # last: model.json marks a finished, checked export
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"wrote {', '.join(sorted(p.name for p in folder.glob('*.onnx')))} in {folder}; {said}")
    return folder
