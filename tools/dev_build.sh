#!/usr/bin/env bash
# Fast rebuild for development: compiles baeum._core with CMake into build/dev and copies
# it next to the Python sources, so `PYTHONPATH=python python -c "import baeum"` uses it.
# (Users and CI install with `pip install .` instead.)
set -euo pipefail
cd "$(dirname "$0")/.."
PYBIND11_DIR=$(python -c "import pybind11; print(pybind11.get_cmake_dir())")
cmake -S . -B build/dev -G Ninja -DCMAKE_BUILD_TYPE=Release -Dpybind11_DIR="$PYBIND11_DIR" \
  -DSKBUILD_PROJECT_VERSION=0.1.0.dev "$@" >/dev/null
cmake --build build/dev
cp build/dev/_core*.so python/baeum/
