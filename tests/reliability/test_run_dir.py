"""The run-directory rule: a directory that holds a run is continued, replaced or left alone for a
fresh sibling, never overwritten in silence; an unusable --out fails before anything runs."""
import pytest

from minicnn.run_dir import RUN_FILES, RunDirectoryError, check_writable, choose_run_dir, holds_run


def make_run(path):
    path.mkdir(parents=True, exist_ok=True)
    (path / "history.json").write_text("{}")
    return path


def test_a_directory_without_a_run_is_used_as_it_is_and_created_when_missing(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("mine")
    assert choose_run_dir(str(tmp_path / "notes"), log=None) == str(tmp_path / "notes")
    assert choose_run_dir(str(tmp_path / "a" / "b"), log=None) == str(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()


def test_runs_are_numbered_like_yolo_increment_path_and_the_choice_is_said(tmp_path):
    messages = []
    run = make_run(tmp_path / "exp")
    make_run(tmp_path / "exp-2")
    (tmp_path / "exp-3").write_text("a file, not a run directory")
    assert choose_run_dir(str(run), log=messages.append) == f"{run}-4"
    assert messages == [f"{run} holds an earlier run; writing to {run}-4 instead "
                        f"(--resume continues {run}, --overwrite replaces it)"]
    assert (run / "history.json").read_text() == "{}"


def test_overwrite_removes_only_the_run_files(tmp_path):
    run = make_run(tmp_path / "exp")
    for name in RUN_FILES:
        (run / name).write_text("old")
    (run / "notes.txt").write_text("kept")
    assert choose_run_dir(str(run), overwrite=True, log=lambda s: None) == str(run)
    assert sorted(p.name for p in run.iterdir()) == ["notes.txt"]


def test_resume_needs_a_run_and_excludes_overwrite(tmp_path):
    with pytest.raises(RunDirectoryError, match="holds no run to continue"):
        choose_run_dir(str(tmp_path / "empty"), resume=True, log=None)
    run = make_run(tmp_path / "exp")
    assert choose_run_dir(str(run), resume=True, log=None) == str(run)
    with pytest.raises(RunDirectoryError, match="choose one"):
        choose_run_dir(str(run), resume=True, overwrite=True, log=None)


def test_the_other_ranks_of_a_distributed_run_make_the_same_choice_and_touch_nothing(tmp_path):
    run = make_run(tmp_path / "exp")
    assert choose_run_dir(str(run), log=None, writer=False) == f"{run}-2"
    assert not (tmp_path / "exp-2").exists()
    assert choose_run_dir(str(run), overwrite=True, log=lambda s: None, writer=False) == str(run)
    assert holds_run(str(run))


@pytest.mark.parametrize("under", [False, True])
def test_a_file_where_the_directory_should_be_is_refused(tmp_path, under):
    (tmp_path / "f").write_text("x")
    path = tmp_path / "f" / "sub" if under else tmp_path / "f"
    with pytest.raises(RunDirectoryError, match=("lies under the file" if under else "is a file")):
        check_writable(str(path))
