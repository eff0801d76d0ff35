"""Every config file composes and builds; found by globbing configs/, so new files are covered unedited."""

import inspect
from pathlib import Path

import pytest
import torch
from hydra.utils import get_class, instantiate
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import Logger
from omegaconf import OmegaConf

from seqzoo.configs import CONFIG_DIR
from seqzoo.data.batch import INPUT_MASK, INPUTS, TARGETS
from seqzoo.models.registry import list_models
from seqzoo.train import build_task
from tests.conftest import chosen, config_names, encoder_names, make_cfg
from tests.data.fixtures import data_overrides

GROUPS = ["data", "model", "decoder", "task", "trainer", "callbacks", "logger", "experiment", "debug"]
CASES = [(g, n) for g in GROUPS for n in config_names(g)]
DATA_FOR = {
    "many_to_one": "japanese_vowels",
    "aligned": "copy_memory",
    "seq2seq": "reverse",
    "one_to_many": "digits_caption",
    "forecast": "airline",
}


def fitting(group: str, name: str, tmp_path) -> list[str]:
    """Overrides that pair a data set with the task of its mapping, or a task with a data set of its own."""
    cfg = make_cfg(tmp_path, [f"{group}={name}"])
    data_mapping = get_class(cfg.data._target_).mapping
    task_mapping = get_class(cfg.task._target_).mapping
    if group == "data":
        return [f"{group}={name}", f"task={data_mapping}", *data_overrides(name, tmp_path)]
    if group == "task":
        return [f"{group}={name}", f"data={DATA_FOR[task_mapping]}"]
    if group == "decoder":
        return [f"{group}={name}", "task=seq2seq", "data=reverse"]
    if group == "model" and name in list_models("forecaster"):  # a direct forecaster: task=forecast only
        return [f"{group}={name}", "task=forecast", f"data={DATA_FOR['forecast']}"]
    return [f"{group}={name}", *data_overrides(chosen("data", [f"{group}={name}"]), tmp_path)]


def build(cfg):
    dm = instantiate(cfg.data)
    dm.prepare_data()
    dm.setup("fit")
    return dm, build_task(cfg, dm.info)


@pytest.mark.parametrize("group,name", CASES, ids=[f"{g}={n}" for g, n in CASES])
def test_config_composes_and_instantiates(tmp_path, group, name):
    cfg = make_cfg(tmp_path, fitting(group, name, tmp_path))
    dm, task = build(cfg)
    assert isinstance(task, get_class(cfg.task._target_)) and dm.mapping == task.mapping
    assert any(p.requires_grad for p in task.parameters())
    for group_name, role in (("model", "backbone"), ("model", "encoder"), ("decoder", "decoder")):
        if hasattr(task, role):  # the configured family fills the role (the decoder inside the token decoder)
            assert any(isinstance(m, get_class(cfg[group_name]._target_)) for m in getattr(task, role).modules()), role
    for node in (cfg.get("callbacks") or {}).values():
        assert isinstance(instantiate(node), Callback)
    for node in (cfg.get("logger") or {}).values():
        assert isinstance(instantiate(node), Logger)
    cfg = make_cfg(tmp_path, fitting(group, name, tmp_path), cpu=False)  # the file's own accelerator
    if cfg.trainer.accelerator == "gpu" and not torch.cuda.is_available():
        with pytest.raises(Exception, match="(?i)gpu|cuda"):
            instantiate(cfg.trainer)
    else:
        trainer = instantiate(cfg.trainer)
        assert trainer.precision == cfg.trainer.precision and trainer.gradient_clip_val == cfg.trainer.get(
            "gradient_clip_val"
        )


VARIANT_KEYS = {"cell"}  # keys whose yaml picks one variant of a shared class (decoder/gru.yaml: cell=gru)


@pytest.mark.parametrize("group,name", [(g, n) for g in ("model", "decoder") for n in config_names(g)])
def test_a_family_yaml_and_its_constructor_agree_on_defaults(group, name):
    """One source of truth: a key in configs/<group>/<family>.yaml has the constructor's default value."""
    node = OmegaConf.load(Path(CONFIG_DIR) / group / f"{name}.yaml")
    params = inspect.signature(get_class(node._target_)).parameters
    for key, value in OmegaConf.to_container(node).items():
        if key in ("_target_", "target_params") or key in VARIANT_KEYS:
            continue
        assert key in params, f"{name}.yaml sets {key}, which {node._target_} does not take"
        default = params[key].default
        if default is not inspect.Parameter.empty:
            default = list(default) if isinstance(default, tuple) else default
            assert value == default, (
                f"{group}/{name}.yaml: {key}={value!r} but the constructor's default is {default!r}"
            )


@pytest.mark.parametrize("name", encoder_names())
def test_every_model_trains_a_step(tmp_path, name):
    """One test for every backbone: the output keeps (B, T) shape, has no NaN, every parameter learns."""
    torch.manual_seed(0)
    cfg = make_cfg(tmp_path, [f"model={name}"])
    dm, task = build(cfg)
    batch = next(iter(dm.train_dataloader()))
    out = task.backbone(batch[INPUTS], batch[INPUT_MASK])
    h = out[0] if isinstance(out, tuple) else out
    assert h.shape == (*batch[INPUTS].shape[:2], task.backbone.output_size) and torch.isfinite(h).all()
    task.loss(task(batch[INPUTS], batch[INPUT_MASK]), batch[TARGETS]).backward()
    missing = [n for n, p in task.named_parameters() if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)]
    assert not missing, f"parameters without gradient: {missing}"


@pytest.mark.parametrize("name", ["eval", "predict"])
def test_eval_and_predict_configs_compose(tmp_path, name):
    cfg = make_cfg(
        tmp_path, ["ckpt_path=x.ckpt", "input=x.npy"] if name == "predict" else ["ckpt_path=x.ckpt"], name=name
    )
    assert cfg.ckpt_path == "x.ckpt" and instantiate(cfg.trainer) is not None


@pytest.mark.parametrize("name", config_names("data"))
def test_every_data_set_trains_with_the_task_of_its_mapping(tmp_path, name):
    """python train.py data=<name> task=<its mapping> runs (one batch of each split)."""
    from seqzoo.train import train

    cfg = make_cfg(tmp_path, [*fitting("data", name, tmp_path), "debug=fast_dev_run", "logger=csv"])
    metrics = train(cfg)
    assert metrics["test"] and all(v == v for v in metrics["test"].values())  # present and not NaN
