"""The command line: values in the output, exit status 2 and one line on bad input."""

import json
import subprocess
import sys

import pytest

from crystal_fourier.cli import main


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_basis_json(capsys):
    status, out, _ = run(capsys, "basis", "Fd-3m", "--cutoff", "5", "--format", "json")
    doc = json.loads(out)
    assert status == 0
    assert doc["sg"] == 227
    assert doc["hall_number"] == 526
    assert doc["dim"] == 8


def test_basis_hall_setting(capsys):
    status, out, _ = run(capsys, "basis", "--hall", "525", "--cutoff", "2", "--shell", "box", "--format", "json")
    doc = json.loads(out)
    assert status == 0
    assert doc["sg"] == 227
    assert doc["hall_number"] == 525


def test_summary_csv(capsys):
    status, out, _ = run(capsys, "summary", "--groups", "1,225,227", "--format", "csv")
    lines = out.strip().splitlines()
    assert status == 0
    assert lines[0] == ("sg,hall_number,symbol,n_operations,n_frequencies,n_present_frequencies,"
                        "n_present_orbits,n_absent_orbits,dim")
    assert lines[1] == "1,1,P1,1,515,515,515,0,515"
    assert lines[2] == "225,523,Fm-3m,192,515,137,10,17,10"
    assert lines[3] == "227,526,Fd-3m,192,515,107,8,19,8"


def test_summary_hexagonal_counts(capsys):
    status, out, _ = run(capsys, "summary", "--groups", "194", "--format", "json")
    assert status == 0
    assert json.loads(out)[0]["n_frequencies"] == 419


def test_graph_json_and_dot(capsys):
    status, out, _ = run(capsys, "graph", "4", "--cutoff", "1", "--shell", "box", "--format", "json")
    doc = json.loads(out)
    assert status == 0
    assert len(doc["nodes"]) == 27
    k = doc["nodes"].index([0, 1, 0])
    assert {"source": k, "target": k, "phase24": 12, "operation": 1} in doc["edges"]
    status, out, _ = run(capsys, "graph", "4", "--cutoff", "1", "--shell", "box", "--format", "dot")
    assert out.startswith('digraph "sg4"')
    assert 'label="12/24"' in out


def test_faithful(capsys):
    status, out, _ = run(capsys, "faithful", "228", "--shell", "ball", "--show", "5")
    assert status == 0
    assert "smallest faithful cutoff 6" in out
    assert "NOT faithful (index 2)" in out


def test_verify_passes_and_writes(capsys, tmp_path):
    status, out, _ = run(capsys, "verify", "--groups", "1,194,227", "--cutoff", "3", "--out", str(tmp_path))
    assert status == 0
    assert "all 3 groups passed" in out
    assert len(list(tmp_path.glob("*.json"))) == 3


@pytest.mark.parametrize(("argv", "message"), [
    (["basis", "231"], "1-230, got 231"),
    (["basis", "Xyz"], "unknown space-group symbol 'Xyz'"),
    (["basis", "--hall", "531"], "Hall number must be an integer in 1-530, got 531"),
    (["basis", "4", "--cutoff", "-1"], "cutoff must be an integer >= 0, got -1"),
    (["basis", "4", "--shell", "sphere"], "invalid choice: 'sphere'"),
    (["basis", "4", "--format", "pdf"], "invalid choice: 'pdf'"),
    (["summary", "--groups", "0-5"], "must lie within 1-230"),
    (["verify", "--groups", "P9"], "unknown space-group symbol 'P9'"),
])
def test_bad_input_is_one_line_and_status_2(argv, message):
    process = subprocess.run([sys.executable, "-m", "crystal_fourier", *argv], capture_output=True, text=True,
                             check=False)
    assert process.returncode == 2
    assert message in process.stderr
    assert len(process.stderr.strip().splitlines()) == 1
    assert "Traceback" not in process.stderr


def test_train_and_pretrain_options_default_to_the_config_classes():
    # The command line copies no default by hand: it reads TrainConfig, ModelConfig and PretrainConfig.
    from crystal_fourier.cli import help_texts
    from crystal_fourier.runtime import MODEL_KINDS, ModelConfig, PretrainConfig, TrainConfig

    texts = help_texts()
    model, train, pretrain = ModelConfig(), TrainConfig(), PretrainConfig()
    assert "--model {" + ",".join(MODEL_KINDS) + "}" in " ".join(texts["train"].split())
    for text in (texts["train"], texts["pretrain"]):
        flat = " ".join(text.split())
        assert f"token width (default {model.d_model})" in flat
        assert f"transformer blocks (default {model.n_layers})" in flat
        assert f"integer >= 0 (default {model.cutoff})" in flat
        assert f"radius in Angstrom (default {model.neighbour_cutoff})" in flat
        assert f"or 'none' (default {model.frequency_damping})" in flat
    flat = " ".join(texts["train"].split())
    assert f"epochs (default {train.epochs})" in flat
    assert f"global batch size (default {train.batch_size})" in flat
    assert train.lr == 5e-4
    assert "learning rate (default 5e-4)" in flat
    flat = " ".join(texts["pretrain"].split())
    assert f"pairs per group (default {pretrain.pairs_per_group};" in flat
    assert pretrain.lr == 1e-3
    assert "learning rate (default 1e-3)" in flat



@pytest.mark.parametrize(("command", "option"), [("train", "--tensor-head"), ("pretrain", "--pairs-per-group")])
def test_help_does_not_import_torch(command, option):
    # The defaults in --help come from the torch-free config module (runtime.network._config).
    code = ("import contextlib, io, sys\n"
            "from crystal_fourier.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    try:\n"
            f"        main([{command!r}, '--help'])\n"
            "    except SystemExit as done:\n"
            "        assert done.code == 0\n"
            f"assert {option!r} in out.getvalue()\n"
            "print(sorted(name for name in sys.modules if name == 'torch' or name.startswith('torch.')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
