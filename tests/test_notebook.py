"""examples/notebook.ipynb runs (issue 14: the example notebook cannot rot): executed with nbclient on a kernel of
this interpreter, every cell without an error, and it shows what it says it shows."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import hemkg

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "notebook.ipynb"  # the repository's, not installed

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def outputs(cell, kind: str) -> list[str]:
    """The cell's outputs of one MIME type (text/html, image/png, text/plain), or its printed text ('stream')."""
    if kind == "stream":
        return [o["text"] for o in cell.get("outputs", []) if o["output_type"] == "stream"]
    return [o["data"][kind] for o in cell.get("outputs", []) if kind in o.get("data", {})]


def cell_with(nb, text: str):
    (found,) = [c for c in nb.cells if c.cell_type == "code" and text in c.source]
    return found


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run top to bottom in a fresh kernel that imports this tree as hemkg."""
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    parent = str(Path(hemkg.__file__).resolve().parent.parent)
    env = {"PYTHONPATH": os.pathsep.join(p for p in (parent, os.environ.get("PYTHONPATH")) if p),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline", "HEMKG_LIBRARY": str(tmp_path_factory.mktemp("lib"))}
    # an error stays in its cell's outputs (allow_errors), for the first test to name
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name=NATIVE_KERNEL_NAME, allow_errors=True,
                                     resources={"metadata": {"path": str(tmp_path_factory.mktemp("run"))}})
    with pytest.MonkeyPatch.context() as patch:  # the kernel: this interpreter (ipykernel's native kernel), this env
        for key, value in env.items():
            patch.setenv(key, value)
        client.execute()
    return nb


def test_notebook_runs_without_an_error(executed):
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == [], [f"{e['ename']}: {e['evalue']}" for e in errors]
    assert all(c.get("execution_count") for c in executed.cells if c.cell_type == "code")  # every cell ran


def test_notebook_shows_the_card_the_explanation_the_screen_and_a_plot(executed):
    """(MgCoNiCuZn)O (Section 3.1, ref 48): the card lists its mechanisms, the explanation about Zn cites the
    report on this very material (ref 46, Section 2.2), the screen is a table of ten rows with Fe, and the plot
    is drawn."""
    (card,) = outputs(cell_with(executed, 'hemkg.consult("(MgCoNiCuZn)O"'), "text/html")
    assert "Mechanisms" in card and "What each element does" in card and len(card) < 50_000
    (why,) = outputs(cell_with(executed, "c.explanation(about="), "stream")
    assert why.startswith("Why: (MgCoNiCuZn)O with Li+") and "[46]" in why
    (table,) = outputs(cell_with(executed, "hemkg.screen("), "text/html")
    assert table.count("<tr") == 11 and "x_Fe" in table  # a header and ten rows
    assert outputs(cell_with(executed, "plt.subplots"), "image/png")
    warned = "".join(outputs(cell_with(executed, "Composition(\"(MgCoNiCuZn)O\")"), "stream"))
    assert "CompositionWarning" in warned or "pymatgen" not in sys.modules


def test_notebook_draws_the_papers_figures(executed):
    """The figures package in a notebook: Fig. 6a as a periodic table with (MgCoNiCuZn)O's elements, and the
    capacity of (LiFeZnNiCoMn)3O4 beside the paper's report (ref 41), each shown as an image by itself."""
    assert outputs(cell_with(executed, 'periodic_table("(MgCoNiCuZn)O")'), "image/png")
    assert outputs(cell_with(executed, 'capacity("(LiFeZnNiCoMn)3O4")'), "image/png")
