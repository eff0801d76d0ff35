"""mkdocs hooks: the pages that must not drift from the code are generated at build time.

- ``reference/families.md``, ``reference/data.md``, ``reference/configs.md``: from ``seqzoo/configs/`` (the one
  list of families, data sets and groups) and the classes their ``_target_`` names;
- ``reference/api/<module>.md``: one mkdocstrings page per public module;
- ``<!-- results: NAME [LABEL] [pivot=ROW,COLUMN,VALUE] [where=KEY=VALUE] [columns=A,B] -->`` (a value
  with spaces in quotes) in any page
  becomes the table of run LABEL (every run when omitted) of ``docs/results/NAME.json``, with the run's
  command, date, machine and versions under it;
- ``<!-- pretrained -->`` becomes the table of trained models, read from the registry.
"""

import importlib
import inspect
import json
import re
import shlex
from pathlib import Path

from mkdocs.structure.files import File
from omegaconf import OmegaConf

from seqzoo.configs import CONFIG_DIR, config_options

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
MARKER = re.compile(r"^([ \t]*)<!--\s*results:\s*(.*?)\s*-->", re.M)
API = [
    "seqzoo.models",
    "seqzoo.layers",
    "seqzoo.tasks",
    "seqzoo.data",
    "seqzoo.diagnostics",
    "seqzoo.configs",
    "seqzoo.pretrained",
    "seqzoo.export",
    "seqzoo.errors",
]


# ---- results tables


def cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return str(value).replace("|", "\\|")


def table(rows: list[dict], columns: list[str] | None = None) -> str:
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def pivot(rows: list[dict], row_key: str, col_key: str, value_key: str) -> list[dict]:
    """Long rows (one per row x column) -> wide rows, in the order each key first appears."""
    wide: dict = {}
    for row in rows:
        wide.setdefault(row[row_key], {row_key: row[row_key]})[cell(row[col_key])] = row.get(value_key)
    return list(wide.values())


def results_block(spec: str, page_uri: str = "index.md") -> str:
    """The markdown a ``<!-- results: ... -->`` marker stands for, on the page at ``page_uri``."""
    words = shlex.split(spec)  # quote a value with spaces: pivot="set,method,accuracy %"
    name, options = words[0], dict(w.split("=", 1) for w in words[1:] if "=" in w)
    labels = [w for w in words[1:] if "=" not in w]
    path = RESULTS / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"results marker names {path.relative_to(ROOT)}, which does not exist")
    runs = json.loads(path.read_text())["runs"]
    chosen = [r for r in runs if not labels or r["label"] in labels]
    if not chosen:
        raise KeyError(f"{path.name} has no run labelled {labels}; it has {[r['label'] for r in runs]}")
    blocks, up = [], "../" * page_uri.count("/")
    for run in chosen:
        rows = run["rows"]
        if "where" in options:
            key, value = options["where"].split("=", 1)
            rows = [r for r in rows if cell(r.get(key)) == value]
        if "pivot" in options:
            rows = pivot(rows, *options["pivot"].split(","))
        columns = options["columns"].split(",") if "columns" in options else None
        versions = ", ".join(f"{k} {v}" for k, v in run["versions"].items())
        source = (
            f"<small>`{run['command']}` · {run['date']} · {run['machine']} · {versions} · "
            f"[{name}.json]({up}results/{name}.json) run `{run['label']}`</small>"
        )
        notes = f"\n\n{run['notes']}" if run.get("notes") else ""
        blocks.append(f"{table(rows, columns)}\n\n{source}{notes}")
    return "\n\n".join(blocks)


# ---- reference pages


def load_yaml(group: str, name: str) -> dict:
    return OmegaConf.to_container(OmegaConf.load(Path(CONFIG_DIR) / group / f"{name}.yaml"), resolve=False)


def target_class(target: str):
    module, _, name = target.rpartition(".")
    return getattr(importlib.import_module(module), name)


def docstring(obj) -> str:
    """A docstring as markdown: reST's ``::`` literal blocks become fenced code."""
    text = inspect.getdoc(obj) or ""
    out, block = [], False
    for line in text.splitlines():
        if block and line and not line.startswith("    "):
            out.append("```")
            block = False
        if line.rstrip().endswith("::") and not block:
            out += [line.rstrip()[:-1], "", "```text"]
            block = True
            continue
        out.append(line[4:] if block else line)
    return "\n".join(out + (["```"] if block else []))


def keys_table(node: dict) -> str:
    rows = [
        {"key": k, "default": json.dumps(v) if not isinstance(v, str) else v}
        for k, v in node.items()
        if k not in ("_target_", "defaults")
    ]
    return table(rows) if rows else "(no keys)"


def families_page() -> str:
    parts = [
        "# Families\n",
        "Generated from `src/seqzoo/configs/model/` and `decoder/` and the classes they name: "
        "`model=<name>` picks the encoder, `decoder=<name>` the decoder role (seq2seq, one-to-many, "
        "autoregressive forecasting).\n",
    ]
    decoders = set(config_options("decoder"))
    for name in config_options("model"):
        node = load_yaml("model", name)
        cls = target_class(node["_target_"])
        width = getattr(cls, "width", None)
        reach = (
            "bounded (`receptive_field`)"
            if "receptive_field" in dir(cls)
            else ("bounded by `max_len`" if "max_len" in inspect.signature(cls).parameters else "unbounded")
        )
        roles = (
            "direct forecaster (`task=forecast` only)"
            if getattr(cls, "forecaster", False)
            else ("encoder, decoder" if name in decoders else "encoder")
        )
        parts += [
            f"## {name}\n",
            f"`{node['_target_']}` · roles: {roles} · causal: "
            f"{'a constructor flag' if 'causal' in inspect.signature(cls).parameters else getattr(cls, 'causal', '?')}"
            f" · width knob: `{width.key if width else '?'}` · reach: {reach}\n",
            docstring(importlib.import_module(cls.__module__)),
            "",
            f"**`model={name}`** (`configs/model/{name}.yaml`):\n",
            keys_table(node),
            "",
        ]
        if name in decoders:
            dec = load_yaml("decoder", name)
            parts += [f"**`decoder={name}`** (`{dec['_target_']}`):\n", keys_table(dec), ""]
    return "\n".join(parts)


def data_page() -> str:
    parts = [
        "# Data sets\n",
        "Generated from `src/seqzoo/configs/data/`: each data set, the mapping it serves, "
        "its keys and defaults, and its class's documentation.\n",
    ]
    for name in config_options("data"):
        node = load_yaml("data", name)
        target = node.get("_target_")
        if target is None:  # a variant of another data set (defaults: [base, _self_])
            base = [d for d in node.get("defaults", []) if d != "_self_"]
            parts += [f"## {name}\n", f"A variant of `data={base[0] if base else '?'}`:\n", keys_table(node), ""]
            continue
        cls = target_class(target)
        parts += [
            f"## {name}\n",
            f"`{target}` · mapping: `{getattr(cls, 'mapping', '?')}`\n",
            docstring(cls),
            "",
            keys_table(node),
            "",
        ]
    return "\n".join(parts)


def configs_page() -> str:
    parts = [
        "# Config groups\n",
        "Generated from `src/seqzoo/configs/`: every group, its options, and each option's "
        "keys (`python train.py --cfg job` prints the composed whole). `--config-dir my_configs` adds options "
        "of your own.\n",
        "## train.yaml\n",
        "```yaml",
        (Path(CONFIG_DIR) / "train.yaml").read_text().strip(),
        "```\n",
    ]
    groups = sorted(p.name for p in Path(CONFIG_DIR).iterdir() if p.is_dir() and not p.name.startswith("_"))
    for group in groups:
        parts.append(f"## {group}\n")
        for name in config_options(group):
            text = (Path(CONFIG_DIR) / group / f"{name}.yaml").read_text().strip()
            parts += [
                f'??? note "{group}={name}"',
                "    ```yaml",
                *("    " + line for line in text.splitlines()),
                "    ```",
                "",
            ]
    return "\n".join(parts)


def api_page(module: str) -> str:
    return f"# {module}\n\n::: {module}\n    options:\n      show_submodules: true\n"


def generated() -> dict[str, str]:
    pages = {
        "reference/families.md": families_page(),
        "reference/data.md": data_page(),
        "reference/configs.md": configs_page(),
    }
    pages.update({f"reference/api/{m.split('.')[-1]}.md": api_page(m) for m in API})
    return pages


# ---- mkdocs events


def on_files(files, config):
    for uri, text in generated().items():
        files.append(File.generated(config, uri, content=text))
    return files


def pretrained_table() -> str:
    """The trained models shipped or registered (seqzoo/weights/registry.json), from the registry itself."""
    from seqzoo.pretrained import registry

    rows = [
        {
            "name": f"`{name}`",
            "what": e["description"],
            "command": f"`{e['command']}`",
            "test metrics": ", ".join(f"{k} {v:.4g}" for k, v in e["metrics"].items()),
            "size": f"{e['bytes'] / 2**20:.2f} MiB" if e.get("bytes") else "-",
            "licence": e.get("licence", "-"),
        }
        for name, e in sorted(registry().items())
    ]
    return table(rows)


def on_page_markdown(markdown, page, config, files):
    markdown = markdown.replace("<!-- pretrained -->", pretrained_table())

    def render(m):  # indented like the marker, so a table can sit inside a tab or an admonition
        return "\n".join(
            m.group(1) + line if line else line for line in results_block(m.group(2), page.file.src_uri).splitlines()
        )

    return MARKER.sub(render, markdown)
