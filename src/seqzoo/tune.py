"""``seqzoo-tune``: an Optuna study over any training run, so that a comparison of families gives each the same
tuning effort instead of one fixed setting.

    seqzoo-tune tune=default model=gru data=japanese_vowels tune.n_trials=30
    seqzoo-tune tune=default model=gru data=japanese_vowels tune.n_trials=30   # again: the study goes on

Arguments are train.py overrides, plus ``tune=<name>`` (``seqzoo/configs/tune/<name>.yaml``: the search space and
the study's settings) and ``tune.<key>=<value>`` for those settings. Each trial is one ``train(cfg)`` with the
sampled values as overrides, in ``<study>/trials/<number>/``, judged by the checkpoint callback's monitor
(``val/loss`` unless configured otherwise: never a test figure). TPE samples; Optuna's median pruner stops a
trial whose validation curve falls behind the others' at the same epoch (optuna-integration's Lightning
callback). The study lives in ``<study>/study.db`` (SQLite), so running the command again continues it, and
several processes running the same command share it (one trial each at a time).

At the end: ``trials.md`` (every trial: number, state, value, parameters), ``history.png`` and
``importance.png`` (Optuna's matplotlib plots), and the best trial as a preset in a config folder of the study's
own, ``<study>/configs/experiment/tuned/<study>.yaml`` (never inside the installed package):
``seqzoo-train --config-dir <study>/configs experiment=tuned/<study>`` trains it again.
"""

import re
import sys
import warnings
from pathlib import Path

from omegaconf import OmegaConf

from seqzoo import configs
from seqzoo.atomic import atomic_path, write_text
from seqzoo.errors import SeqzooError

KINDS = ("float", "int", "categorical")


def split_arguments(argv: list[str]) -> tuple[str, dict, list[str]]:
    """-> the tune config's name, ``tune.<key>`` settings, and the training overrides."""
    name, settings, overrides = "default", {}, []
    for arg in argv:
        if arg.startswith("tune="):
            name = arg.split("=", 1)[1]
        elif arg.startswith("tune."):
            key, _, value = arg[len("tune.") :].partition("=")
            settings[key] = value
        else:
            overrides.append(arg)
    return name, settings, overrides


def load_settings(name: str, settings: dict):
    path = configs.config_file("tune", name)
    if path is None:
        raise SeqzooError(
            f"tune={name}: no tune/{name}.yaml in seqzoo's configs; known: {', '.join(configs.config_options('tune'))}"
        )
    cfg = OmegaConf.merge(OmegaConf.load(path), OmegaConf.from_dotlist([f"{k}={v}" for k, v in settings.items()]))
    for key, kind, least in (
        ("n_trials", int, 1),
        ("seed", int, 0),
        ("startup_trials", int, 0),
        ("warmup_epochs", int, 0),
        ("timeout", float, 1e-9),
    ):
        value = cfg.get(key)
        if value is None and key == "timeout":
            continue
        try:
            ok = kind(value) == float(value) and kind(value) >= least
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise SeqzooError(
                f"tune.{key}={value}: expected {'a whole number' if kind is int else 'a number'} >= {least:g}"
                f"{' or null' if key == 'timeout' else ''}"
            )
    if cfg.get("pruner") not in ("median", "none"):
        raise SeqzooError(f"tune.pruner={cfg.get('pruner')}: choose median or none")
    return cfg


def suggest(trial, space) -> list[str]:
    """One override per key of the space, sampled by the trial."""
    out = []
    for key, spec in space.items():
        kind, name = spec.get("type"), key.lstrip("+")  # +key adds a key to the config: the parameter is its name
        if kind == "float":
            value = trial.suggest_float(name, float(spec.low), float(spec.high), log=bool(spec.get("log", False)))
        elif kind == "int":
            value = trial.suggest_int(name, int(spec.low), int(spec.high), log=bool(spec.get("log", False)))
        elif kind == "categorical":
            value = trial.suggest_categorical(name, list(spec.choices))
        else:
            raise SeqzooError(f"tune space {key}: type {kind!r} is not one of {', '.join(KINDS)}")
        out.append(f"{key}={value}")
    return out


def check_space(space, probe) -> None:
    """Before the first trial: every key names a value of the composed config (``+key`` adds one), every
    distribution is one Optuna draws from, and its bounds or choices make sense."""
    if not space:
        raise SeqzooError(
            "the tune config's space is empty: give space.<train key>: {type: float|int|categorical, ...}"
        )
    for key, spec in space.items():
        where = f"tune space {key}"
        if not key.startswith("+") and OmegaConf.select(probe, key, default=KeyError) is KeyError:
            raise SeqzooError(
                f"{where}: the composed config has no {key}; check the name (seqzoo-train --cfg job "
                f"prints the config), or write +{key} to add a key"
            )
        kind = spec.get("type") if hasattr(spec, "get") else None
        if kind not in KINDS:
            raise SeqzooError(f"{where}: type {kind!r} is not one of {', '.join(KINDS)}")
        if kind == "categorical" and not spec.get("choices"):
            raise SeqzooError(f"{where}: a categorical space needs choices: [a, b, ...]")
        if kind != "categorical":
            try:
                low, high = float(spec.low), float(spec.high)
            except Exception:
                raise SeqzooError(
                    f"{where}: a {kind} space needs numbers low and high, got {spec.get('low')!r} and "
                    f"{spec.get('high')!r}"
                ) from None
            if not low < high or (spec.get("log") and low <= 0):
                raise SeqzooError(
                    f"{where}: needs low < high{' and low > 0 on a log scale' if spec.get('log') else ''}; got "
                    f"{low} and {high}"
                )


def trial_seeded_sampler(seed: int):
    """TPE whose randomness restarts from ``seed + trial number`` at every trial. The number comes from the
    study's storage, so processes sharing a study draw different trials, and a study run again draws the same."""
    import optuna

    class TrialSeeded(optuna.samplers.TPESampler):
        def before_trial(self, study, trial):
            super().before_trial(study, trial)
            self._rng.rng.seed(seed + trial.number)
            self._random_sampler._rng.rng.seed(seed + trial.number)

    return TrialSeeded(seed=seed)


def study_name(overrides: list[str]) -> str:
    """A name from the overrides that choose the run: model=gru data=japanese_vowels -> gru_japanese_vowels."""
    chosen = [o.split("=", 1)[1] for o in overrides if re.match(r"^(model|data|task|experiment)=", o)]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(chosen) or "study")


def preset(base: list[str], best: list[str]) -> str:
    """The best trial as an experiment file: group choices as defaults overrides, the rest as values."""
    groups = [o for o in base if re.match(r"^[a-z_]+=", o) and "." not in o.split("=", 1)[0]]
    values = OmegaConf.from_dotlist([o.lstrip("+") for o in base if o not in groups] + best)
    lines = ["# @package _global_", "# written by seqzoo-tune: the best trial of its study", "defaults:"]
    lines += [f"  - override /{g.split('=', 1)[0]}: {g.split('=', 1)[1]}" for g in groups] + ["  - _self_", ""]
    return "\n".join(lines) + OmegaConf.to_yaml(values)


def run_study(argv: list[str]) -> Path:
    import optuna
    from optuna_integration import PyTorchLightningPruningCallback

    from seqzoo.cli import compose_config
    from seqzoo.config_checks import check_config
    from seqzoo.train import monitored, train

    name, settings, base = split_arguments(argv)
    tune = load_settings(name, settings)
    probe = compose_config(base)
    check_config(probe)
    monitor = probe.callbacks.model_checkpoint.monitor
    direction = "maximize" if probe.callbacks.model_checkpoint.get("mode") == "max" else "minimize"
    check_space(tune.space, probe)
    study_id = tune.get("study") or study_name(base)
    folder = Path(tune.get("root") or Path(probe.paths.log_dir) / "tune") / study_id
    trials = folder / "trials"
    if not (folder / "study.db").exists() and trials.is_dir() and any(trials.iterdir()):
        raise SeqzooError(
            f"{trials} holds {len(list(trials.iterdir()))} trial folders but {folder / 'study.db'}, the study's "
            "record, is gone, so they cannot be continued or counted. Move that folder away to start the "
            "study again, or choose another tune.study=<name>"
        )
    folder.mkdir(parents=True, exist_ok=True)
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=tune.startup_trials, n_warmup_steps=tune.warmup_epochs)
        if tune.pruner == "median"
        else optuna.pruners.NopPruner()
    )
    study = optuna.create_study(
        study_name=study_id,
        storage=f"sqlite:///{folder / 'study.db'}",
        load_if_exists=True,
        direction=direction,
        sampler=trial_seeded_sampler(int(tune.seed)),
        pruner=pruner,
    )

    def objective(trial) -> float:
        sampled = suggest(trial, tune.space)
        cfg = compose_config(
            [*base, *sampled, *tune.get("overrides", [])], output_dir=folder / "trials" / f"{trial.number:03d}"
        )
        trial.set_user_attr("overrides", sampled)
        try:
            value = monitored(cfg, train(cfg, extra_callbacks=(PyTorchLightningPruningCallback(trial, monitor),)))
            if value is None:
                raise SeqzooError(
                    f"the run logged no {monitor}: set callbacks.model_checkpoint.monitor to a validation metric"
                )
        except SeqzooError as e:
            trial.set_user_attr("error", str(e))
            raise
        return value

    n_trials = int(tune.n_trials)  # the study's total, over every process that shares it
    started = tuple(s for s in optuna.trial.TrialState if s != optuna.trial.TrialState.WAITING)  # enqueued ones wait
    done = len(study.get_trials(deepcopy=False, states=started))
    print(
        f"study {study_id} in {folder}: {done} trials started, {max(0, n_trials - done)} to go, {direction} {monitor}"
    )
    if done < n_trials:
        stop = optuna.study.MaxTrialsCallback(n_trials, states=started)  # counts the trials other processes run too
        study.optimize(
            objective, n_trials=n_trials - done, timeout=tune.get("timeout"), catch=(SeqzooError,), callbacks=[stop]
        )
    report(study, folder, base, monitor)
    return folder


def report(study, folder: Path, base: list[str], monitor: str) -> None:
    import optuna

    rows = ["| trial | state | " + monitor + " | parameters |", "|---|---|---|---|"]
    for t in study.trials:
        value = "" if t.value is None else f"{t.value:.4f}"
        rows.append(
            f"| {t.number} | {t.state.name.lower()} | {value} | {' '.join(t.user_attrs.get('overrides', []))} |"
        )
    write_text(folder / "trials.md", "\n".join(rows) + "\n")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        failed = [t for t in study.trials if t.user_attrs.get("error")]
        first = f" trial {failed[0].number} failed: {failed[0].user_attrs['error']}" if failed else ""
        raise SeqzooError(
            f"no trial of study {study.study_name} completed;{first or ' none ran to the end'} (every trial: "
            f"{folder / 'trials.md'})"
        )
    best = study.best_trial
    own = folder / "configs"
    target = own / "experiment" / "tuned" / f"{study.study_name}.yaml"
    write_text(target, preset(base, best.user_attrs["overrides"]))
    plots(study, folder, len(complete))
    print(f"best trial {best.number}: {monitor} {best.value:.4f} with {' '.join(best.user_attrs['overrides'])}")
    print(f"preset written: seqzoo-train --config-dir {own} experiment=tuned/{study.study_name}")


def plots(study, folder: Path, complete: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    for name, draw, needs in (
        ("history", ovm.plot_optimization_history, 1),
        ("importance", ovm.plot_param_importances, 2),
    ):
        if complete >= needs:
            with warnings.catch_warnings():  # Optuna marks its matplotlib plots experimental
                warnings.simplefilter("ignore")
                ax = draw(study)
            ax.figure.tight_layout()
            with atomic_path(folder / f"{name}.png") as tmp:
                ax.figure.savefig(tmp, dpi=100, format="png")
            plt.close(ax.figure)


def main(argv: list[str] | None = None) -> int:
    try:
        import optuna  # noqa: F401
        import optuna_integration  # noqa: F401
    except ImportError:
        print('seqzoo: error: seqzoo-tune needs Optuna: pip install -e ".[tune]"', file=sys.stderr)
        return 2
    try:
        run_study(sys.argv[1:] if argv is None else argv)
    except SeqzooError as e:
        print(f"seqzoo: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
