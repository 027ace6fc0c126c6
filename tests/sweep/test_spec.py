"""The sweep spec: defaults, validation errors that name the field, hashing, shipped configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaletime.sweep.spec import PAPER_WIDTHS, SpecError, load_spec, parse_spec

CONFIGS = Path(__file__).resolve().parents[2] / "src" / "scaletime" / "configs"


def test_defaults_are_the_papers_grid() -> None:
    spec = parse_spec({})
    assert tuple(spec.model.widths) == PAPER_WIDTHS
    assert spec.train.loss == "mse"
    assert spec.model.resolved_depth == 2


@pytest.mark.parametrize(
    ("data", "field", "allowed"),
    [
        ({"train": {"optimizer": "sgdd"}}, "train.optimizer", "'sgd', 'gd' or 'adam'"),
        ({"data": {"dataset": "imagenet"}}, "data.dataset", "'mnist'"),
        ({"model": {"arch": "resnet"}}, "model.arch", "'mlp' or 'cnn'"),
        ({"data": {"label_noise": [1.5]}}, "data.label_noise.0", "less than 1"),
        ({"model": {"widths": [0, 2]}}, "model.widths.0", "greater than 0"),
        ({"train": {"lr_rule": "sqrt"}}, "train.lr_rule", "'fixed' or 'inverse_width'"),
        ({"train": {"loss": "hinge"}}, "train.loss", "'mse' or 'ce'"),
    ],
)
def test_invalid_field_is_named_with_value_and_allowed(
    data: dict, field: str, allowed: str
) -> None:
    with pytest.raises(SpecError) as err:
        parse_spec(data)
    msg = str(err.value)
    assert f"  - {field}:" in msg
    assert allowed in msg


def test_unknown_field_lists_allowed_fields() -> None:
    with pytest.raises(SpecError) as err:
        parse_spec({"train": {"epoch": 3}})
    msg = str(err.value)
    assert "train.epoch: unknown field" in msg
    assert "epochs" in msg and "batch_size" in msg


def test_several_errors_are_all_reported() -> None:
    with pytest.raises(SpecError) as err:
        parse_spec({"seeds": [], "train": {"batch_size": -1}})
    msg = str(err.value)
    assert "seeds" in msg and "train.batch_size" in msg


def test_first_checkpoint_must_precede_budget() -> None:
    with pytest.raises(SpecError, match="first_checkpoint"):
        parse_spec({"train": {"epochs": 1, "first_checkpoint": 2}})


def test_eval_epochs_log_spaced_and_end_at_budget() -> None:
    spec = parse_spec({"train": {"epochs": 10, "checkpoints": 5, "first_checkpoint": 0.1}})
    ev = spec.train.eval_epochs()
    assert ev[0] == 0.0 and ev[-1] == 10.0 and len(ev) == 6
    ratios = [ev[i + 1] / ev[i] for i in range(1, len(ev) - 1)]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-4)


def test_hash_ignores_execution_but_not_science() -> None:
    a = parse_spec({"execution": {"device": "cpu"}})
    b = parse_spec({"execution": {"device": "cuda", "unit_max_members": 3}})
    c = parse_spec({"train": {"epochs": 21}})
    assert a.spec_hash() == b.spec_hash() != c.spec_hash()


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_configs_validate(path: Path) -> None:
    spec = load_spec(path)
    assert spec.name == path.stem or path.stem == "demo"


def test_one_config_per_paper_experiment() -> None:
    specs = [load_spec(p) for p in CONFIGS.glob("paper-*.toml")]
    datasets = {s.data.dataset for s in specs}
    assert {"mnist", "fashion-mnist", "cifar10", "mnist1d"} <= datasets
    assert {s.model.arch for s in specs} == {"mlp", "cnn"}
    assert any(len(s.data.label_noise) > 1 for s in specs)
    assert any(len(s.data.sizes) > 1 for s in specs)
    assert any(s.train.optimizer == "adam" for s in specs)
    assert any(s.train.lr_rule == "inverse_width" for s in specs)


# -- strict specs (issue 15): each of these was accepted, coerced or crashed before -------------
@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ("[model]\nwidths = [true]\n", "model.widths.0", "valid integer"),
        ("[model]\nwidths = [10000000000000]\n", "model.widths.0", "less than or equal"),
        ("[model]\ndepth = 100000\n", "model.depth", "less than or equal to 64"),
        ("seeds = [1e30]\n", "seeds.0", "valid integer"),
        ("seeds = [9223372036854775808]\n", "seeds.0", "less than or equal"),
        ("[train]\nepochs = 1e-300\nfirst_checkpoint = 1e-301\n", "(top level)", "optimiser step"),
        ("[train]\nlr = [inf]\n", "train.lr.0", "finite"),
        ('[train]\nbatch_size = "128"\n', "train.batch_size", "valid integer"),
        ('[data]\ndataset = "mnist1d"\noptions = {n_train = -1}\n', "data", "n_train"),
        ('[data]\ndataset = "teacher"\noptions = {dim = 1e9}\n', "data", "dim"),
        ('[data]\ndataset = "mnist"\noptions = {dim = 3}\n', "data", "takes no options"),
    ],
)
def test_strict_specs_refuse_coercions_and_out_of_range_values(
    tmp_path: Path, text: str, field: str, says: str
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert f"  - {field}:" in str(err.value) and says in str(err.value)


def test_empty_binary_and_deep_files_are_refused_with_what_they_are(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing but a comment\n")
    with pytest.raises(SpecError, match="sets nothing"):
        load_spec(empty)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"name = 'x'\n\xff\xfe\x00\x01")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(binary)
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(deep)


def test_a_refused_spec_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from scaletime.cli import app

    spec = tmp_path / "s.toml"
    spec.write_text('[data]\ndataset = "mnist1d"\noptions = {n_train = 3}\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(spec), "--out", str(out)])
    assert result.exit_code == 2 and "n_train" in result.output
    assert not out.exists()
