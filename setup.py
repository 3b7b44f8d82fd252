"""Build of the compiled inner loops (the rest of the project is configured in pyproject.toml)."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("corridor.solve._kernels", ["src/corridor/solve/_kernels.pyx"], extra_compile_args=["-O2"])],
        language_level=3,
    )
)
