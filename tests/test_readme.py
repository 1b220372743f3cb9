"""The README's quickstart runs as written, and the set-up commands stay in sync with CI."""

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _readme():
    return (ROOT / "README.md").read_text()


def test_readme_quickstart_is_the_example_file():
    block = re.search(r"<!-- quickstart -->\n```python\n(.*?)\n```", _readme(), re.S)
    assert block, "README has no quickstart block"
    assert block.group(1).strip() == (ROOT / "examples" / "quickstart.py").read_text().strip()


def test_quickstart_runs_as_written():
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_ENABLE_X64")}
    # the quickstart's own 8 devices (it only sets XLA_FLAGS when unset) plus the suite's cheaper CPU compiles
    env["XLA_FLAGS"] = (
        "--xla_force_host_platform_device_count=8 --xla_cpu_use_fusion_emitters=false"
        " --xla_cpu_parallel_codegen_split_count=1"
    )
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")], capture_output=True, text=True, env=env,
        timeout=600, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for needle in ("accuracy", "streamed F1", "jitted F1", "bootstrap accuracy", "soft F1", "on 8 devices"):
        assert needle in out, out
    values = dict(re.findall(r"^(macro F1|streamed F1|jitted F1)\s+([0-9.]+)$", out, re.M))
    assert values["macro F1"] == values["streamed F1"] == values["jitted F1"], out
    one_shot = float(re.search(r"^accuracy\s+([0-9.]+)$", out, re.M).group(1))
    sharded = float(re.search(r"^sharded accuracy ([0-9.]+)", out, re.M).group(1))
    assert abs(one_shot - sharded) < 1e-6


def test_ci_runs_the_readme_commands():
    readme = _readme()
    test_cmd = re.search(r"<!-- ci:test -->\n```bash\n(.*?)\n```", readme).group(1)
    assert "pip install -e '.[test]'" in test_cmd and "pytest" in test_cmd
    main_cmd = re.search(r"<!-- ci:main -->\n```bash\n(.*?)\n```", readme).group(1)
    assert "pip install -e" in main_cmd and "jaxmetrics report" in main_cmd
    ci = (ROOT / ".ci" / "run").read_text()
    assert "readme_block ci:main" in ci and "readme_block ci:test" in ci and "check_report.py" in ci
    # the output directory the main job writes is the one CI checks
    out = re.search(r"--out (\S+)", main_cmd).group(1)
    assert f"check_report.py {out}" in ci


def test_readme_metric_table_matches_the_registry():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import update_readme_table
    finally:
        sys.path.pop(0)
    readme = _readme()
    assert update_readme_table.render(readme) == readme, (
        "README.md's metric index is out of date: run python scripts/update_readme_table.py"
    )
    # and the table really covers the registry: one row per registered metric
    from jaxmetrics import registry

    block = readme.split(update_readme_table.BEGIN)[1].split(update_readme_table.END)[0]
    rows = [line for line in block.strip().splitlines()[2:]]
    assert len(rows) == len(registry)
    for name in registry:
        assert any(row.startswith(f"| `{name}`") for row in rows), name
