"""Build step of the quarry wheel: copies the Swift build's libQuarryC.so and quarry binary
into the package, so that an installed package needs nothing from the checkout.

Where they come from: $QUARRY_BUILD_DIR if set, else <repository>/.build/release (the
folder `swift build -c release` writes). A missing library is an error that says which
command makes it; a missing binary is only a warning (the package then looks for `quarry`
on PATH or in $QUARRY_BIN for finetune and evaluate).
"""

import os
import shutil
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))


def build_dir():
    return os.environ.get("QUARRY_BUILD_DIR") or os.path.join(HERE, "..", ".build", "release")


class BuildWithLibrary(build_py):
    """build_py, then the Swift artefacts copied into the built package."""

    def run(self):
        super().run()
        src = os.path.abspath(build_dir())
        lib = os.path.join(src, "libQuarryC.so")
        if not os.path.isfile(lib):
            sys.exit(
                f"quarry: {lib}: no such file; run `swift build -c release` at the repository "
                "root first (or set QUARRY_BUILD_DIR to the folder that holds libQuarryC.so)"
            )
        dest = os.path.join(self.build_lib, "quarry")
        shutil.copy2(lib, os.path.join(dest, "libQuarryC.so"))
        exe = os.path.join(src, "quarry")
        if os.path.isfile(exe):
            os.makedirs(os.path.join(dest, "bin"), exist_ok=True)
            shutil.copy2(exe, os.path.join(dest, "bin", "quarry"))
        else:
            print(f"quarry: warning: {exe} not found; finetune/evaluate will use quarry on PATH")


class PlatformWheel(bdist_wheel):
    """A wheel for this platform but any Python 3: the library is loaded with ctypes."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel})
