"""PyInstaller hook for PySide6.QtGui: PyInstaller's own, minus unused Qt plugins.

Found through ``hookspath`` in triage-desk.spec, so it replaces the built-in
hook. Leaving plugins out here (not by filtering the finished Analysis) also
leaves out the libraries only they need: the GTK theme alone drags in GTK,
Pango and Cairo. Kept: the platform plugins for Windows, macOS, X11, Wayland
and offscreen (the smoke test), the compose input method, accessibility, and
the common raster image formats.
"""

from __future__ import annotations

from pathlib import Path

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

# Plugin folders nothing in Triage uses: embedded-Linux input and EGL, desktop
# theme bridges, SVG icons, extra Wayland buffer integrations.
UNUSED_TYPES = {
    "egldeviceintegrations",
    "generic",
    "platformthemes",
    "iconengines",
    "wayland-graphics-integration-client",
}
# Single plugins, by file name without "lib" and extension.
UNUSED_PLUGINS = {
    "qeglfs", "qminimalegl", "qlinuxfb", "qvnc", "qvkkhrdisplay", "qdirect2d",
    "ibusplatforminputcontextplugin",
    "adwaita", "fullscreen-shell-v1", "ivi-shell", "qt-shell", "wl-shell-plugin",
    "qsvg", "qtiff", "qwebp", "qicns", "qtga", "qwbmp", "qpdf",
}  # fmt: skip


def used(source: str, destination: str) -> bool:
    folder = Path(destination)
    if "plugins" not in folder.parts:
        return True
    stem = Path(source).name.split(".")[0].removeprefix("lib")
    return folder.name not in UNUSED_TYPES and stem not in UNUSED_PLUGINS


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(source, destination) for source, destination in binaries if used(source, destination)]
