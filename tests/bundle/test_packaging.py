"""Packaging checks that need no build (the real build runs in .ci/run).

The spec is executed with PyInstaller's build steps replaced by recorders, so
what it would bundle can be checked in a second; a bundle's layout is then
rebuilt from that list in a temporary folder and used "frozen" (``sys._MEIPASS``
set) to create a database and load the rules, as the packaged app does.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from triage import paths
from triage.rules.pack import load_pack
from triage.store.db import head_revision, open_database, schema_revision

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "triage-desk.spec"
HOOK = ROOT / "packaging" / "hooks" / "hook-PySide6.QtGui.py"
QT_TRANSLATION = "PySide6/Qt/translations/qt_de.qm"

pytest.importorskip("PyInstaller", reason="packaging extra not installed")


class Recorder:
    """Stands in for one of PyInstaller's build targets, keeping its arguments."""

    def __init__(self, *args, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs
        # Analysis results the spec reads: TOC entries are (name in bundle, source, type),
        # with a Qt translation as PyInstaller's QtCore hook would add.
        self.datas = [
            (str(Path(folder) / name), str(file), "DATA")
            for source, folder in kwargs.get("datas", [])
            for name, file in files_in(Path(source))
        ] + [(QT_TRANSLATION, "/qt/translations/qt_de.qm", "DATA")]
        self.binaries, self.pure, self.scripts = [], [], []


def files_in(source: Path) -> list[tuple[Path, Path]]:
    """(name under the target folder, file) for a data entry; a folder is copied whole."""
    if source.is_file():
        return [(Path(source.name), source)]
    return [(p.relative_to(source), p) for p in sorted(source.rglob("*")) if p.is_file()]


def run_spec(root: Path, dist: Path) -> dict:
    """Execute the spec as if it lived in ``root/packaging``, building into ``dist``."""
    built: dict[str, list[Recorder]] = {}

    def target(kind: str):
        def make(*args, **kwargs) -> Recorder:
            built.setdefault(kind, []).append(Recorder(*args, **kwargs))
            return built[kind][-1]

        return make

    names = {kind: target(kind) for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    where = {"SPECPATH": str(root / "packaging"), "DISTPATH": str(dist)}
    result = runpy.run_path(str(SPEC), init_globals={**where, **names})
    result["built"] = built
    return result


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> dict:
    return run_spec(ROOT, tmp_path_factory.mktemp("dist"))


def bundled_files(spec: dict) -> dict[str, Path]:
    """Path in the bundle -> source file, for the data files the spec lists."""
    analysis = spec["built"]["Analysis"][0]
    return {Path(name).as_posix(): Path(source) for name, source, _kind in analysis.datas}


def test_spec_bundles_rules_icons_and_migrations(spec):
    files = bundled_files(spec)
    for source in (ROOT / "rules").rglob("*"):
        if source.is_file():
            assert files[source.relative_to(ROOT).as_posix()] == source
    assert "ui/icons/triage.png" in files
    for font in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"):
        assert f"triage/fonts/{font}" in files  # the PDF exports' Unicode font
    assert "triage/fonts/LICENSE-DejaVu.txt" in files
    assert "triage/store/migrations/env.py" in files
    assert "triage/store/migrations/script.py.mako" in files
    for version in (ROOT / "triage" / "store" / "migrations" / "versions").glob("0*.py"):
        assert f"triage/store/migrations/versions/{version.name}" in files
    assert "triage/store/migrations/autogen.py" not in files  # a developer tool
    # Package metadata, so triage.__version__ is the package's version when frozen.
    # (An editable install's metadata may be the source tree's triage.egg-info.)
    metadata = r"triage-[^/]+\.dist-info/METADATA|triage\.egg-info/PKG-INFO"
    assert [name for name in files if re.fullmatch(metadata, name)]


def test_spec_takes_only_small_text_files_from_models(tmp_path):
    for folder in ("rules/intel", "ui/icons", "triage/store/migrations/versions", "models/cards"):
        (tmp_path / folder).mkdir(parents=True)
    for name in (
        "rules/intel/buckets.toml",
        "ui/icons/triage.png",
        "triage/store/migrations/env.py",
    ):
        (tmp_path / name).write_text("x")
    (tmp_path / "triage/store/migrations/script.py.mako").write_text("x")
    (tmp_path / "triage/store/migrations/versions/0001_initial.py").write_text("x")
    (tmp_path / "models/README.md").write_text("what the models folder holds")
    (tmp_path / "models/cards/harm-v1.json").write_text("{}")
    (tmp_path / "models/harm-v1.joblib").write_bytes(b"\x80\x04 pickled model")
    (tmp_path / "models/cards/huge.json").write_bytes(b"{" + b" " * 1_100_000 + b"}")

    data = spec_data_files(tmp_path)

    assert ("models/README.md", "models") in data
    assert ("models/cards/harm-v1.json", "models/cards") in data
    assert not [source for source, _folder in data if "joblib" in source or "huge" in source]
    assert ("rules/intel/buckets.toml", "rules/intel") in data


def spec_data_files(root: Path) -> list[tuple[str, str]]:
    listed = run_spec(root, root / "dist")["data_files"]()
    return [
        (Path(source).relative_to(root).as_posix(), Path(folder).as_posix())
        for source, folder in listed
    ]


def test_spec_names_one_app_and_leaves_out_unused_modules(spec):
    (exe,) = spec["built"]["EXE"]
    assert exe.kwargs["name"] == "triage-desk"
    (analysis,) = spec["built"]["Analysis"]
    assert analysis.args[0] == [str(ROOT / "packaging" / "triage_desk.py")]
    assert str(ROOT / "packaging" / "hooks") in analysis.kwargs["hookspath"]
    excludes = set(analysis.kwargs["excludes"])
    assert {"PySide6.QtNetwork", "PySide6.QtQml", "PySide6.QtQuick", "tkinter"} <= excludes
    assert not excludes & {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "numpy"}
    assert {"pandas", "fairlearn"} <= excludes  # the harm model runs on numpy alone
    hidden = set(analysis.kwargs["hiddenimports"])
    # Imported by name at run time, so PyInstaller's analysis cannot see them.
    assert {"ui.em_view", "ui.main_window", "triage.cli.database"} <= hidden
    assert not [name for name in hidden if name.startswith("triage.store.migrations")]


def test_spec_drops_qt_translations(spec):
    files = bundled_files(spec)
    assert QT_TRANSLATION not in files  # the UI is English only
    assert "rules/intel/buckets.toml" in files


def test_strip_leaves_wheels_vendored_libraries_alone(spec, tmp_path, monkeypatch):
    bundle = tmp_path / "triage-desk"
    for name in (
        "_internal/libpython3.11.so.1.0",
        "_internal/PySide6/Qt/lib/libQt6Core.so.6",
        "_internal/numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so",
        "_internal/numpy.libs/libscipy_openblas64_-32a4b2a6.so",
        "_internal/pillow.libs/libjpeg-6dc8d115.so.62.4.0",
        # The scipy-openblas32 wheel's, rewritten by auditwheel, at the top.
        "_internal/libscipy_openblas.so",
        "_internal/libgfortran-040039e1.so.5.0.0",
        "_internal/rules/intel/buckets.toml",
    ):
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle / name).write_bytes(b"\x7fELF")
    (bundle / "_internal/libQt6Core.so.6").symlink_to("PySide6/Qt/lib/libQt6Core.so.6")
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: calls.append(command))
    monkeypatch.setattr(shutil, "which", lambda _name: "/usr/bin/strip")

    spec["strip_collected"](bundle)

    (command,) = calls
    assert command[:2] == ["strip", "--strip-unneeded"]
    inside = bundle / "_internal"
    stripped = sorted(Path(path).relative_to(inside).as_posix() for path in command[2:])
    assert stripped == [
        "PySide6/Qt/lib/libQt6Core.so.6",
        "libpython3.11.so.1.0",
        "numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so",
    ]


def test_identical_libraries_become_links_to_one_copy(spec, tmp_path):
    inside = tmp_path / "triage-desk" / "_internal"
    gfortran = b"\x7fELF gfortran" * 100
    files = {
        "numpy.libs/libgfortran-040039e1.so.5.0.0": gfortran,
        "scipy.libs/libgfortran-040039e1.so.5.0.0": gfortran,
        "scipy.libs/libgfortran-8f1e9814.so.5.0.0": b"\x7fELF another build" * 100,
        "scipy.libs/libopenblas.so": b"\x7fELF openblas",
    }
    for name, content in files.items():
        (inside / name).parent.mkdir(parents=True, exist_ok=True)
        (inside / name).write_bytes(content)

    saved = spec["link_duplicates"](tmp_path / "triage-desk")

    assert saved == len(gfortran)
    copy = inside / "scipy.libs/libgfortran-040039e1.so.5.0.0"
    assert copy.is_symlink()
    assert os.readlink(copy) == "../numpy.libs/libgfortran-040039e1.so.5.0.0"
    links = sorted(p.relative_to(inside).as_posix() for p in inside.rglob("*") if p.is_symlink())
    assert links == ["scipy.libs/libgfortran-040039e1.so.5.0.0"]
    for name, content in files.items():
        assert (inside / name).read_bytes() == content


def _shared_library(path: Path, source: str, *flags: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    code = path.with_name(path.name + ".c")
    code.write_text(source)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(path), str(code), *flags], check=True)
    code.unlink()


@pytest.mark.skipif(
    not (shutil.which("cc") and shutil.which("objdump")), reason="needs cc and binutils"
)
def test_a_wheels_copy_of_a_library_links_to_a_compatible_one(spec, tmp_path):
    inside = tmp_path / "triage-desk" / "_internal"
    version = tmp_path / "versions.map"
    version.write_text("SHARED_3.0 { global: old; };\nSHARED_3.5 { global: new; } SHARED_3.0;\n")

    def shared(path: Path, functions: str, soname: str) -> None:
        _shared_library(path, functions, f"-Wl,-soname,{soname}", f"-Wl,--version-script={version}")

    # The system's copy has only old(); each wheel's copy has old() and new().
    shared(inside / "libshared.so.3", "int old(void) { return 1; }", "libshared.so.3")
    for wheel, name in (("calm", "libshared-1234abcd.so.3"), ("keen", "libshared-5678abcd.so.3")):
        shared(
            inside / f"{wheel}.libs" / name,
            "int old(void) { return 2; } int new(void) { return 3; }",
            name,
        )
    # calm's module calls only old(), keen's calls new() too.
    for wheel, calls in (("calm", "old()"), ("keen", "old() + new()")):
        _shared_library(
            inside / wheel / "module.so",
            f"int old(void); int new(void); int f(void) {{ return {calls}; }}",
            f"-L{inside / f'{wheel}.libs'}",
            f"-l:{next((inside / f'{wheel}.libs').iterdir()).name}",
        )
    calm = inside / "calm.libs" / "libshared-1234abcd.so.3"
    keen = inside / "keen.libs" / "libshared-5678abcd.so.3"
    size = calm.stat().st_size

    saved = spec["link_compatible_copies"](tmp_path / "triage-desk")

    # keen's module needs new(), which the system's copy lacks: calm's copy
    # serves both wheels, and is not then linked to the system's (keen's
    # module would lose new() through the chain).
    assert saved == size
    assert keen.is_symlink() and os.readlink(keen) == "../calm.libs/libshared-1234abcd.so.3"
    assert not calm.is_symlink() and not (inside / "libshared.so.3").is_symlink()
    # With only calm's module, calm's copy goes to the system's.
    (inside / "keen").joinpath("module.so").unlink()
    keen.unlink()
    (inside / "keen.libs").rmdir()
    assert spec["link_compatible_copies"](tmp_path / "triage-desk") == size
    assert calm.is_symlink() and os.readlink(calm) == "../libshared.so.3"


def test_frozen_layout_migrates_a_database_and_loads_the_rules(spec, tmp_path, monkeypatch):
    bundle = tmp_path / "_internal"
    for name, source in bundled_files(spec).items():
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, bundle / name)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)

    assert paths.bundled("rules", "intel") == bundle / "rules" / "intel"
    assert paths.bundled("ui", "icons", "triage.png").is_file()
    pack = load_pack()
    assert pack.folder == bundle / "rules" / "intel"

    db = open_database(tmp_path / "laptop.sqlite")
    try:
        assert schema_revision(db.engine) == head_revision(db.engine) is not None
    finally:
        db.close()
    # A PDF export finds its font in the bundle.
    from triage.pdf import new_pdf

    pdf = new_pdf()
    pdf.add_page()
    pdf.cell(text="“Zoë” – café")
    assert pdf.output()[:4] == b"%PDF"


def test_frozen_layout_without_migrations_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "empty"), raising=False)
    with pytest.raises(Exception, match="migrations"):
        open_database(tmp_path / "laptop.sqlite")


def test_qt_hook_keeps_platform_plugins_and_drops_unused_ones(monkeypatch):
    import PyInstaller.utils.hooks.qt as qt_hooks

    plugins = "PySide6/Qt/plugins"
    collected = [
        ("/qt/plugins/platforms/libqxcb.so", f"{plugins}/platforms"),
        ("/qt/plugins/platforms/libqoffscreen.so", f"{plugins}/platforms"),
        ("C:/qt/plugins/platforms/qwindows.dll", f"{plugins}/platforms"),
        ("/qt/plugins/platforms/libqcocoa.dylib", f"{plugins}/platforms"),
        ("/qt/plugins/platforms/libqeglfs.so", f"{plugins}/platforms"),
        ("/qt/plugins/platforms/libqwayland-egl.so", f"{plugins}/platforms"),
        (
            "/qt/plugins/wayland-shell-integration/libxdg-shell.so",
            f"{plugins}/wayland-shell-integration",
        ),
        ("/qt/plugins/platformthemes/libqgtk3.so", f"{plugins}/platformthemes"),
        ("/qt/plugins/imageformats/libqsvg.so", f"{plugins}/imageformats"),
        ("/qt/plugins/imageformats/libqjpeg.so", f"{plugins}/imageformats"),
        ("/qt/lib/libQt6Gui.so.6", "PySide6/Qt/lib"),
    ]
    monkeypatch.setattr(qt_hooks, "add_qt6_dependencies", lambda _hook: ([], collected, []))

    kept = [Path(source).name for source, _folder in runpy.run_path(str(HOOK))["binaries"]]

    assert kept == [
        "libqxcb.so", "libqoffscreen.so", "qwindows.dll", "libqcocoa.dylib", "libQt6Gui.so.6",
    ]  # fmt: skip


def test_entry_point_runs_the_cli_on_request():
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "triage_desk.py"), "cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("triage ")


def test_a_library_without_a_major_version_is_one_with_its_wheels_copy(spec):
    """scipy's OpenBLAS (auditwheel's hash in the name) and the scipy-openblas32
    wheel's, which numpy is built against, are one library; numpy's wheel's
    64-bit-integer build is another."""
    library = spec["LIBRARY"]
    names = [
        "libscipy_openblas-6cdc3b4a.so",
        "libscipy_openblas.so",
        "libscipy_openblas64_-32a4b2a6.so",
    ]
    keys = [library.fullmatch(name).groups() for name in names]
    assert keys[0] == keys[1] == ("libscipy_openblas", None)
    assert keys[2] == ("libscipy_openblas64_", None)
    assert library.fullmatch("libcrypto-3a0647ea.so.3").groups() == ("libcrypto", "3")
