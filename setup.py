"""Packages of the distribution. Everything else is in pyproject.toml.

The grammars stay in the repository's top-level ``grammars/`` folder and are shipped
inside the package as ``lsmsim._grammars`` (read by ``lsmsim.grammars``), with the
parser tables prebuilt from them in ``lsmsim/_tables/`` (``scripts/build_grammar_tables.py``)."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["lsmsim", "lsmsim.*"]) + ["lsmsim._grammars"],
    package_dir={"lsmsim._grammars": "grammars"},
    package_data={"lsmsim._grammars": ["*.lark"], "lsmsim": ["_tables/*.lalr"]},
)
