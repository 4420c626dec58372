"""The pattern that spares `packaging`'s import accepts nothing `packaging` refuses."""

from __future__ import annotations

import pytest
from packaging.requirements import InvalidRequirement, Requirement

from engine.manifest.models import requirements
from engine.manifest.models.requirements import requirement_problem

SAMPLES = [
    "vllm==0.11.0",
    "fastapi[standard]==0.115.6",
    "torch>=2.1,<3",
    "a==1.*",
    "numpy",
    "pkg~=1.4.2",
    "x>=1.0rc1",
    "y==2.0.post1",
    "z!=1.0.dev3",
    "A_b.c-d",
    "pkg[a, b] >= 1",
    "x @ https://h/x.whl",
    "pkg; python_version > '3.8'",
    "torch>=",
    "fastapi standard",
    "--pre",
    "",
    "==1.0",
    "pkg==",
    "a>=abc",
    "pkg[",
    "pkg]==1",
    "git+https://github.com/x/y",
    "a==1.*.2",
    "-e .",
    "a==1.0-",
    "a b==1",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_fast_path_agrees_with_packaging(text):
    try:
        Requirement(text)
        valid = True
    except InvalidRequirement:
        valid = False
    if requirements._PLAIN.match(text):
        assert valid, f"the pattern accepts {text!r}, which packaging refuses"
    assert (requirement_problem(text) is None) == valid
