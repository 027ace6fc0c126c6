"""The sweep report: self-contained, every figure captioned with its set-up, the CLI."""

from __future__ import annotations

import base64
import re
import struct

from typer.testing import CliRunner

from scaletime.report.sweep import read_summary
from scaletime.sweep.store import ResultStore

IMG = re.compile(r'<img src="([^"]*)"')
CAPTION = re.compile(r"<figcaption>(.*?)</figcaption>", re.S)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_report_is_self_contained_with_decodable_images(smoke) -> None:
    page = (smoke.out / "mnist-label-noise" / "report.html").read_text()
    sources = IMG.findall(page)
    assert len(sources) >= 10
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        width, height = _png_size(base64.b64decode(src.split(",", 1)[1]))
        assert width > 100 and height > 100
    assert not re.search(r'(src|href)="(https?:)?//', page)
    for section in (
        "Learning curves",
        "t_min against scale",
        "Predicting large",
        "Collapse",
        "Scaling laws",
        "Double descent",
        "Label-noise sensitivity",
    ):
        assert section in page


def test_every_caption_states_the_setup(smoke) -> None:
    folder = smoke.out / "mnist-data-volume"
    with ResultStore(folder) as store:
        spec = store.spec()
    page = (folder / "report.html").read_text()
    captions = CAPTION.findall(page)
    assert len(captions) == len(IMG.findall(page))
    for caption in captions:
        assert f"batch {spec.train.batch_size}" in caption
        assert f"{spec.train.epochs:g} epochs" in caption
        assert "seeds " + ", ".join(map(str, spec.seeds)) in caption
        assert "n = " in caption and "label noise" in caption
    summary = read_summary(folder)
    thresholds = summary["settings"][0]["thresholds"]
    figure1 = next(c for c in captions if "Figure 1 for" in c)
    assert ", ".join(f"{x:.3g}" for x in thresholds) in figure1


def test_report_shows_the_runs_and_diverged(smoke) -> None:
    page = (smoke.out / "mnist-mlp" / "report.html").read_text()
    summary = read_summary(smoke.out / "mnist-mlp")
    runs = summary["runs"]
    assert f"{runs['runs']} runs: {runs['done']} done, {runs['diverged']} diverged" in page
    assert "wall_median_s" in page


def test_report_command_writes_and_prints_the_path(app, smoke, tmp_path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        app,
        [
            "report",
            str(smoke.out / "mnist-adam"),
            "--out",
            str(out),
            "--boot",
            "50",
            "--laws",
            "power,chinchilla-time",
            "--n-starts",
            "1",
            "--max-nfev",
            "50",
        ],
    )
    assert result.exit_code == 0, result.output
    assert str(out.resolve()) in result.stdout
    page = out.read_text()
    assert "chinchilla-time" in page and "bnsl2" not in page
    assert len(IMG.findall(page)) >= 8


def test_report_command_rerenders_a_reproduction(app, smoke, tmp_path) -> None:
    out = tmp_path / "index.html"
    result = CliRunner().invoke(app, ["report", str(smoke.out), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "mnist-mlp/report.html" in out.read_text()


def test_report_command_refuses_a_non_sweep(app, tmp_path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "holds no results.sqlite" in " ".join(result.output.split())
