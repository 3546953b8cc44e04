"""The documents' YAML is true (issue 14): `ulvsd --check` accepts it.

1. config/example.yaml passes `ulvsd --check`, and names every top-level key the loader knows
   (the key list of parse_document in lib/config/parse_top.cc) as a key of its own, so that the
   file that says it shows every key does.
2. Every ```yaml block of README.md passes `ulvsd --check`. A block that is a whole config is
   checked as it is. A block that is a fragment says so in an HTML comment on the line before
   its fence (invisible when the README is rendered):
     <!-- yaml-check: fragment -->                     top-level keys, added to BASE below
     <!-- yaml-check: fragment under virtual_servers --> a list (or mapping) that becomes the
                                                         value of that top-level key in BASE
   A fragment's keys replace BASE's keys of the same name. There is no way to skip a block.

Usage: docs_test.py --ulvsd PATH --root SOURCE_ROOT (meson suite `unit`). Exit 0 when all hold;
every failure is printed with the README line of its block and ulvsd's errors.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

import yaml  # PyYAML (Debian's python3-yaml)

# What a fragment is checked in: two ports named as the README's examples name them, on the
# README's subnets, a default route. net_null devices: --check never opens them.
BASE = {
    "ports": [
        {"name": "wan", "device": "net_null0", "addresses": ["203.0.113.10/25"]},
        {"name": "lan", "device": "net_null1", "addresses": ["198.51.100.1/24"]},
    ],
    "routes": [{"prefix": "0.0.0.0/0", "via": "203.0.113.1"}],
}

MARKER = re.compile(r"<!--\s*yaml-check:\s*fragment(?:\s+under\s+([a-z_]+))?\s*-->")


def check(ulvsd: str, path: str) -> tuple[bool, str]:
    p = subprocess.run([ulvsd, "-c", path, "--check"], capture_output=True, text=True,
                       timeout=60)
    out = (p.stdout + p.stderr).strip()
    return p.returncode == 0, out


def loader_top_keys(root: str) -> list[str]:
    """The top-level keys parse_document accepts, read from its source."""
    src = open(os.path.join(root, "lib", "config", "parse_top.cc")).read()
    m = re.search(r"void parse_document\(.*?mapping m\(r,[^{]*\{(.*?)\}\);", src, re.S)
    if not m:
        raise SystemExit("docs_test: parse_document's key list not found in parse_top.cc")
    keys = re.findall(r'"([a-z_]+)"', m.group(1))
    if len(keys) < 5:
        raise SystemExit(f"docs_test: implausible key list from parse_top.cc: {keys}")
    return keys


def readme_blocks(path: str) -> list[tuple[int, str | None, str]]:
    """(line of the fence, None | "" | under-key, text) of every ```yaml block."""
    lines = open(path).read().split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```yaml":
            start = i + 1
            marker = MARKER.fullmatch(lines[i - 1].strip()) if i > 0 else None
            kind = None if marker is None else (marker.group(1) or "")
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            blocks.append((start, kind, "\n".join(body) + "\n"))
        i += 1
    return blocks


def as_config(kind: str | None, text: str) -> str:
    if kind is None:
        return text
    frag = yaml.safe_load(_dedent(text))
    cfg = dict(BASE)
    if kind == "":
        if not isinstance(frag, dict):
            raise ValueError("a `fragment` block must be a mapping of top-level keys")
        cfg.update(frag)
    else:
        cfg[kind] = frag
    return yaml.safe_dump(cfg, sort_keys=False)


def _dedent(text: str) -> str:
    lines = [ln for ln in text.split("\n")]
    indents = [len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()]
    cut = min(indents) if indents else 0
    return "\n".join(ln[cut:] for ln in lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ulvsd", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    failures = []

    example = os.path.join(args.root, "config", "example.yaml")
    ok, out = check(args.ulvsd, example)
    if not ok:
        failures.append(f"config/example.yaml: ulvsd --check failed:\n{out}")
    doc = yaml.safe_load(open(example)) or {}
    missing = [k for k in loader_top_keys(args.root) if k not in doc]
    if missing:
        failures.append("config/example.yaml does not show the top-level keys: "
                        + ", ".join(missing))
    unknown = [k for k in doc if k not in loader_top_keys(args.root)]
    if unknown:  # --check refuses them too; said here in the list's own terms
        failures.append("config/example.yaml has keys the loader does not know: "
                        + ", ".join(unknown))

    readme = os.path.join(args.root, "README.md")
    blocks = readme_blocks(readme)
    if not blocks:
        failures.append("README.md: no ```yaml block found")
    with tempfile.TemporaryDirectory(prefix="rdme-docs-") as tmp:
        for line, kind, text in blocks:
            what = "whole" if kind is None else ("fragment" + (f" under {kind}" if kind else ""))
            try:
                cfg = as_config(kind, text)
            except (ValueError, yaml.YAMLError) as e:
                failures.append(f"README.md:{line}: yaml block ({what}): {e}")
                continue
            path = os.path.join(tmp, f"readme-{line}.yaml")
            with open(path, "w") as f:
                f.write(cfg)
            ok, out = check(args.ulvsd, path)
            print(f"README.md:{line}: {what}: {'ok' if ok else 'FAILED'}")
            if not ok:
                failures.append(f"README.md:{line}: yaml block ({what}) fails ulvsd --check:\n"
                                f"{out}\n--- as checked:\n{cfg}")
    for f in failures:
        print(f, file=sys.stderr)
    print(f"{len(blocks)} README yaml blocks, example.yaml: "
          f"{'FAILED' if failures else 'ok'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
