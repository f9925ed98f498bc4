"""PyInstaller hook for PySide6.QtGui: PyInstaller's own, minus unused Qt plugins.

Found through ``hookspath`` in triage-desk.spec, so it replaces the built-in
hook. Leaving plugins out here (not by filtering the finished Analysis) also
leaves out the libraries only they need: the GTK theme alone drags in GTK,
Pango and Cairo. Kept: the platform plugins for Windows, macOS, X11 and
offscreen (the smoke test), the compose input method and accessibility. No
image format plugins: the app's one image, its icon, is a PNG, which QtGui
reads itself. Wayland's plugins are left out (2.1 MB with the Wayland client
and OpenGL libraries only they load): in a Wayland session Qt falls back to
X11 through XWayland, which Wayland desktops run (docs/decisions.md).
"""

from __future__ import annotations

from pathlib import Path

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

# Plugin folders nothing in Triage uses: embedded-Linux input and EGL, desktop
# theme bridges, SVG icons, Wayland's shells, decorations and buffer
# integrations, X11's OpenGL integrations.
UNUSED_TYPES = {
    "egldeviceintegrations",
    "generic",
    "platformthemes",
    "iconengines",
    "wayland-graphics-integration-client",
    "wayland-shell-integration",
    "wayland-decoration-client",
    "xcbglintegrations",  # OpenGL on X11: the widgets paint without it
}
# Single plugins, by file name without "lib" and extension.
UNUSED_PLUGINS = {
    "qeglfs", "qminimalegl", "qlinuxfb", "qvnc", "qvkkhrdisplay", "qdirect2d",
    "qwayland-egl", "qwayland-generic", "qminimal",
    "ibusplatforminputcontextplugin",
    "adwaita", "fullscreen-shell-v1", "ivi-shell", "qt-shell", "wl-shell-plugin",
    "qsvg", "qtiff", "qwebp", "qicns", "qtga", "qwbmp", "qpdf", "qjpeg", "qgif", "qico",
}  # fmt: skip


def used(source: str, destination: str) -> bool:
    folder = Path(destination)
    if "plugins" not in folder.parts:
        return True
    stem = Path(source).name.split(".")[0].removeprefix("lib")
    return folder.name not in UNUSED_TYPES and stem not in UNUSED_PLUGINS


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(source, destination) for source, destination in binaries if used(source, destination)]
