"""Figures (issue 14): Fig. 6a as a periodic table, a screen's Pareto front, capacity by mechanism, hem plot.

Each figure is rendered and read back through its artists (patches by gid,
Text artists, the scatter collections) or its SVG text; a screenshot test looks
at one PNG of each with pillow; the CLI writes PNG, SVG and PDF whole or not at all.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run

from hemkg.errors import ExtraNotInstalled, InputError, OutputError

pytest.importorskip("matplotlib")

from matplotlib.colors import to_hex

from hemkg.figures import base
from hemkg.figures.capacity import capacity
from hemkg.figures.pareto import label_box, non_dominated, pareto, screened_rows
from hemkg.figures.periodic import periodic_table

# A small screen: five-cation equimolar oxides for Li+ holding Fe and Si (2,024 candidates).
SMALL_SCREEN = ("-k", "5", "--anions", "O", "--ions", "Li", "--require", "Fe,Si")


def texts(fig) -> list[str]:
    """Every string drawn: Text artists of the figure and its axes, legends and tick labels included."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def stripes(fig) -> dict[str, set[str]]:
    """Element symbol -> the colours (hex) of its cell's stripes in the periodic table."""
    from matplotlib.patches import Rectangle

    found: dict[str, set[str]] = {}
    for patch in fig.findobj(Rectangle):
        gid = patch.get_gid() or ""
        if ":" in gid and not gid.endswith((":outline", ":none")):
            found.setdefault(gid.split(":")[0], set()).add(to_hex(patch.get_facecolor()))
    return found


def legend_colours(fig) -> dict[str, str]:
    """Legend text -> the colour of its patch."""
    legend = fig.axes[0].get_legend()
    return {text.get_text(): to_hex(handle.get_facecolor())
            for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True)}


@pytest.fixture(scope="module")
def table():
    return periodic_table()


@pytest.fixture(scope="module")
def small_screen():
    """The rows `hem plot pareto` passes on, and the screen's own summary (its front)."""
    from hemkg.graph.vocab import vocab
    from hemkg.screening import run as sc

    space = sc.Space(pool=vocab().cations, sizes=(5,), anions=(sc.AnionOption.parse("O"),), ions=("Li",),
                     required=("Fe", "Si")).validate()
    return space, screened_rows(space, sc.Filters(), ("capacity", "cycling_stability"))


# ------------------------------------------------------------------ Fig. 6a

def test_zn_is_drawn_in_plane_a_and_plane_b_colours(table):
    """Fig. 6a and Section 3.1: Zn converts (Plane A, ref 42) and alloys after conversion (Plane B, ref 67):
    its cell is split between the two planes' colours, as the legend gives them."""
    colours = legend_colours(table)
    assert stripes(table)["Zn"] == {colours["Plane A (conversion)"], colours["Plane B (alloying)"]}


@pytest.mark.parametrize("plane, members", [
    ("Plane B (alloying)", "Sn Bi Sb Zn In Ge Si"),
    ("Plane C (space charge)", "Fe Co Ni"),
    ("Plane A (conversion)", "Si Fe Co Ni Cu Zn In Sn Mn Ge Ru Bi Sb V Cr"),
])
def test_each_plane_colours_the_elements_section_3_1_lists(table, plane, members):
    """Section 3.1 (Fig. 6a): Plane A 'including Si, Fe, Co, ... Cr', Plane B 'Sn, Bi, Sb, Zn, In, Ge and Si',
    Plane C 'Fe, Co, and Ni': these, and only these, carry the plane's colour."""
    colour = legend_colours(table)[plane]
    assert {symbol for symbol, colours in stripes(table).items() if colour in colours} == set(members.split())


def test_stabilizers_and_anions_have_colours_of_their_own(table):
    """Section 3.1: Li, Mg are 'inactive stabilizers' (the graph extends the role to every listed cation off
    Plane A); P, S, O, Se, Te the anions, a prerequisite for conversion; Na is in neither list."""
    colours = legend_colours(table)
    stabilizer = next(c for text, c in colours.items() if "inactive stabilizer" in text)
    anion = colours["Anions of reported HEM anodes"]
    drawn = stripes(table)
    assert drawn["Mg"] == drawn["Li"] == drawn["W"] == {stabilizer}
    assert all(drawn[s] == {anion} for s in "P S O Se Te".split())
    assert "Na" not in drawn
    assert len(set(colours.values())) == len(colours)  # one colour per legend entry


def test_every_element_of_table_1_is_drawn_in_bold(table):
    """Table 1: the 26 cations and 5 anions of reported HEM anodes are drawn, in bold."""
    from matplotlib.text import Text

    cations = "Li Mg Al Si Ca Ti V Cr Mn Fe Co Ni Cu Zn Ge Sr Mo Ru Ag In Sn Sb La Ce W Bi".split()
    symbols = {t.get_gid().removeprefix("symbol-"): t for t in table.findobj(Text)
               if (t.get_gid() or "").startswith("symbol-")}
    assert all(symbols[s].get_fontweight() == "bold" for s in [*cations, "P", "S", "O", "Se", "Te"])
    assert symbols["Na"].get_fontweight() == "normal"
    assert len(symbols) == 86  # periods 1-6


def test_svg_keeps_symbols_and_legend_as_text(table, tmp_path):
    """The SVG a researcher edits keeps its text (not paths): the symbols, the planes and the split cells' ids."""
    path = base.save(table, tmp_path / "planes.svg")
    svg = path.read_text(encoding="utf-8")
    assert "<text" in svg and "Plane B (alloying)" in svg and ">Zn<" in svg
    assert 'id="Zn:plane-A"' in svg and 'id="Zn:plane-B"' in svg


def test_a_candidates_elements_are_outlined_with_roles_and_evidence():
    """Section 3.1, ref 48: in rock-salt (MgCoNiCuZn)O 'Mg functions as a structural stabilizer, whereas Cu, Co,
    Ni, and Zn participate in conversion ... with Zn contributing ... through additional alloying': each
    element outlined, its roles named with the evidence of the consultation (a report on this very material)."""
    from matplotlib.patches import Rectangle

    fig = periodic_table("(MgCoNiCuZn)O")
    outlines = {p.get_gid().split(":")[0]: p.get_linewidth() for p in fig.findobj(Rectangle)
                if (p.get_gid() or "").endswith(":outline")}
    assert {s for s, width in outlines.items() if width > 1} == {"Mg", "Co", "Ni", "Cu", "Zn", "O"}
    drawn = texts(fig)
    line = {drawn[i]: drawn[i + 1] for i in range(len(drawn) - 1)}
    assert line["Mg"].startswith("inactive stabilizer (reported for this very material)")
    assert "conversion (reported for this very material)" in line["Zn"]
    assert "alloying (reported for this very material)" in line["Zn"]
    assert any(t.startswith("(MgCoNiCuZn)O with Li+") for t in drawn)


# ------------------------------------------------------------------ the Pareto front

def _offsets(fig, gid: str) -> set[tuple[float, float]]:
    from matplotlib.collections import PathCollection

    (points,) = [c for c in fig.findobj(PathCollection) if c.get_gid() == gid]
    return {(float(x), float(y)) for x, y in points.get_offsets()}


def test_highlighted_points_are_the_screens_non_dominated_set(small_screen):
    """hem screen --pareto capacity,cycling_stability (screening/run.py) finds the front on its own: the
    figure highlights exactly those points, and draws every other screened point faint."""
    _, (rows, summary) = small_screen
    fig = pareto(rows, ("capacity", "cycling_stability"))
    front = {(p["capacity"], p["cycling_stability"]) for p in summary.front}
    assert len(front) >= 3
    assert _offsets(fig, "front") == front
    assert len(_offsets(fig, "screened")) == len(rows)
    assert sum(r["count"] for r in rows) == summary.kept


def test_best_points_are_labelled_without_overlap(small_screen):
    """The best few points carry a formula of the screen, no two labels overlapping."""
    _, (rows, _) = small_screen
    fig = pareto(rows, ("capacity", "cycling_stability"))
    renderer = fig.canvas.get_renderer()
    labels = [t for t in fig.axes[0].texts if t.get_gid() == "front-label"]
    assert len(labels) >= 3
    formulas = {r["formula"] for r in rows}
    assert all(t.get_text().split(" (+")[0] in formulas for t in labels)  # "(+n more)": others on the point
    boxes = [label_box(t, renderer) for t in labels]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert fig.axes[0].get_xlabel() == "Theoretical capacity (mAh g$^{-1}$)"
    assert fig.axes[0].get_ylabel() == "Elements credited with higher cycling stability"


def test_crowded_labels_are_moved_apart():
    """Six front points a few mAh/g apart: each label is offset until it overlaps none before it."""
    rows = [{"formula": f"(Crowded{i})O", "capacity_total": 1000.0 + i, "stability_contributors": 50 - i}
            for i in range(6)]
    rows += [{"formula": "(Low)O", "capacity_total": 0.0, "stability_contributors": 0},
             {"formula": "(Mid)O", "capacity_total": 900.0, "stability_contributors": 40}]
    fig = pareto(rows)
    renderer = fig.canvas.get_renderer()
    labels = [t for t in fig.axes[0].texts if t.get_gid() == "front-label"]
    assert len(labels) >= 4
    assert len({t.get_position() for t in labels}) > 1  # not all at the first offset
    boxes = [label_box(t, renderer) for t in labels]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_a_dataframe_gives_the_same_front(small_screen):
    """A pandas DataFrame of the screen's columns is read as the dict rows are."""
    pd = pytest.importorskip("pandas")
    _, (rows, _) = small_screen
    frame = pd.DataFrame(rows)
    assert _offsets(pareto(frame), "front") == _offsets(pareto(rows), "front")


def test_three_objectives_draw_the_third_as_colour(small_screen):
    """Three objectives: a colour bar for the third (its axis named from the graph's property label), and the
    highlighted points are the screen's front on all three."""
    from hemkg.screening import run as sc

    space, _ = small_screen
    objectives = ("capacity", "cycling_stability", "fast_charging")
    rows, summary = screened_rows(space, sc.Filters(), objectives)
    fig = pareto(rows, objectives)
    assert len(fig.axes) == 2 and "fast-charging performance" in fig.axes[1].get_ylabel()
    from matplotlib.collections import PathCollection

    (highlighted,) = [c for c in fig.findobj(PathCollection) if c.get_gid() == "front"]
    assert len(highlighted.get_offsets()) == len(summary.front) > 2  # one marker per point of the 3-D front
    assert _offsets(fig, "front") == {(p["capacity"], p["cycling_stability"]) for p in summary.front}


def test_rows_without_a_capacity_are_counted_as_left_out():
    """--allow-unbalanced keeps candidates with no charge-balanced reading: no capacity, so not placed, but said."""
    rows = [{"formula": "(A)O", "capacity_total": 900.0, "stability_contributors": 1},
            {"formula": "(B)O", "capacity_total": None, "stability_contributors": 3, "count": 4}]
    title = pareto(rows).axes[0].get_legend().get_title().get_text()
    assert title == "1 candidate at 1 distinct point (4 with no charge-balanced reading left out)"


def test_non_dominated_keeps_ties_and_drops_the_beaten():
    assert non_dominated([(1, 2), (2, 1), (1, 1), (2, 1), (0, 2)]) == [(2, 1), (1, 2)]


@pytest.mark.parametrize("objectives", [("capacity",), ("capacity", "capacity"), ("capacity", "nonsense")])
def test_bad_objectives_are_the_users_to_fix(small_screen, objectives):
    _, (rows, _) = small_screen
    with pytest.raises(InputError) as err:
        pareto(rows, objectives)
    assert err.value.hint


# ------------------------------------------------------------------ capacity by mechanism

def _bars(fig) -> dict[str, float]:
    from matplotlib.patches import Rectangle

    return {p.get_gid(): p.get_height() for p in fig.findobj(Rectangle) if (p.get_gid() or "").startswith("bar-")}


def test_capacity_of_mgconicuzn_o_shows_conversion_and_says_nothing_is_reported():
    """Section 3.1, ref 48: (MgCoNiCuZn)O converts through Cu, Co, Ni, Zn and alloys through Zn; the paper
    gives its cycling (no decay over 1000 cycles) but no specific capacity, so none is drawn and the figure
    says so. The conversion bar is the JSON answer's estimate; intercalation and space charge are marked."""
    from hemkg.answers.summary import summarise
    from hemkg.consultation.consultation import consult

    record = summarise(consult("(MgCoNiCuZn)O"))["theoretical_capacity"]
    fig = capacity("(MgCoNiCuZn)O")
    bars = _bars(fig)
    assert bars["bar-conversion"] == pytest.approx(record["conversion"]) and record["conversion"] > 0
    assert bars["bar-alloying"] == pytest.approx(record["alloying"])
    assert bars["bar-total-conversion"] + bars["bar-total-alloying"] == pytest.approx(record["total"], abs=0.15)
    assert not [g for g in bars if g.startswith("bar-reported")]
    drawn = texts(fig)
    assert sum("not estimable\nfrom composition" == t for t in drawn) == 2
    assert any("no specific" in t for t in drawn)
    assert fig.axes[0].get_ylabel() == "Specific capacity (mAh g$^{-1}$)"


def test_reported_capacity_is_drawn_with_its_reference():
    """Section 3.1, ref 41: the (LiFeZnNiCoMn)3O4 HEO-HOMS 'maintains 100% of its initial capacity (exceeding
    1200 mAh g-1)': a bar at 1200 labelled '> 1200' and 'ref 41', beside the theoretical estimate."""
    fig = capacity("(LiFeZnNiCoMn)3O4")
    assert _bars(fig)["bar-reported-0"] == 1200
    assert "> 1200\nref 41" in texts(fig)
    assert any(t.startswith("(LiFeZnNiCoMn)3O4-HOMS\n(same composition") for t in texts(fig))


def test_a_mechanism_the_elements_do_not_make_accessible_is_marked_so():
    """Section 3.1: space charge needs a Plane C cation (Fe, Co, Ni) and conversion an anion; the alloy SiGeSnMg
    has neither, so both say 'not accessible' (not 'not estimable'), and the alloying bar is the estimate."""
    from hemkg.answers.summary import summarise
    from hemkg.consultation.consultation import consult

    fig = capacity("SiGeSnMg", "Na")
    gids = {t.get_gid() for t in fig.axes[0].texts}
    assert {"not-accessible-space_charge", "not-accessible-conversion", "not-estimable-intercalation"} <= gids
    assert "not-estimable-space_charge" not in gids
    record = summarise(consult("SiGeSnMg", "Na"))["theoretical_capacity"]
    assert _bars(fig)["bar-alloying"] == pytest.approx(record["alloying"]) and record["alloying"] > 0


def test_a_json_answer_draws_as_its_formula_does():
    """The functions take the JSON answer too (summarise(consult(...)), as an API's to_dict() gives it)."""
    from hemkg.answers.summary import summarise
    from hemkg.consultation.consultation import consult

    answer = summarise(consult("(MgCoNiCuZn)O", "K"))
    assert _bars(capacity(answer)) == _bars(capacity("(MgCoNiCuZn)O", "K"))
    assert "(MgCoNiCuZn)O with K+: roles in this consultation (evidence)" in texts(periodic_table(answer))


def test_a_related_material_is_drawn_as_related():
    """Section 3.1, ref 41: Co3O4-HOMS ends 'less than 800 mAh g-1'; a CoO candidate has its elements."""
    fig = capacity("CoO")
    assert "< 800\nref 41" in texts(fig)
    assert any("same elements" in t for t in texts(fig))


# ------------------------------------------------------------------ the screenshot test

def test_screenshots_are_not_blank_and_have_the_expected_size(tmp_path, small_screen):
    """One PNG of each figure at 300 dpi: the size its figure says, and not blank (pixel variance)."""
    from PIL import Image, ImageStat

    _, (rows, _) = small_screen
    for name, fig in (("planes", periodic_table("(MgCoNiCuZn)O")), ("front", pareto(rows)),
                      ("capacity", capacity("(LiFeZnNiCoMn)3O4"))):
        path = base.save(fig, tmp_path / f"{name}.png")
        width, height = fig.get_size_inches()
        with Image.open(path) as image:
            assert image.size == (round(width * 300), round(height * 300)), name
            grey = image.convert("L")
            assert ImageStat.Stat(grey).stddev[0] > 20, name  # a blank or near-blank page is ~0
            assert grey.getextrema()[0] < 60, name  # something is drawn in black (text, axes)


# ------------------------------------------------------------------ hem plot

MAGIC = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf"])
def test_hem_plot_writes_each_format(runner, tmp_path, suffix):
    """-o FILE.png|svg|pdf: the format from the suffix, said on stderr, nothing on stdout, no temporary left."""
    commands = [["periodic-table", "(MgCoNiCuZn)O"], ["capacity", "(MgCoNiCuZn)O", "--ion", "K"],
                ["pareto", *SMALL_SCREEN, "--objectives", "capacity,cycling_stability"]]
    for i, command in enumerate(commands):
        out = tmp_path / f"fig{i}.{suffix}"
        result = run(runner, "plot", *command, "-o", str(out))
        assert result.exit_code == 0, result.stderr
        assert out.read_bytes().startswith(MAGIC[suffix])
        assert result.stdout == "" and result.stderr.startswith(f"wrote {out} ({suffix.upper()}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"fig{i}.{suffix}" for i in range(3)]


def test_a_png_is_300_dpi(runner, tmp_path):
    from PIL import Image

    out = tmp_path / "planes.png"
    result = run(runner, "plot", "periodic-table", "-o", str(out))
    with Image.open(out) as image:
        assert f"{image.size[0]} x {image.size[1]} px" in result.stderr
        assert round(image.info["dpi"][0]) == 300


@pytest.mark.parametrize("args, wanted", [
    (["periodic-table", "-o", "{tmp}/fig.jpg"], "cannot tell the figure's format"),
    (["capacity", "(MgCoNiCuZn", "-o", "{tmp}/fig.png"], "unmatched '('"),
    (["periodic-table", "Xx2O", "-o", "{tmp}/fig.svg"], "Xx"),
    (["pareto", "--objectives", "capacity,nonsense", "-o", "{tmp}/fig.png"], "'nonsense' cannot be ranked"),
    (["pareto", "--objectives", "capacity", "-o", "{tmp}/fig.png", *SMALL_SCREEN], "two or three"),
    (["capacity", "CoO", "-o", "{tmp}/no-such-folder/fig.png"], "no folder"),
])
def test_hem_plot_errors_exit_2_and_write_nothing(runner, tmp_path, args, wanted):
    """A wrong suffix, formula, objective or folder: one error line with a hint, exit 2, no file at all."""
    result = run(runner, "plot", *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert wanted in assert_one_line_error(result)
    assert "hint: " in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_hem_plot_says_how_to_install_it(runner, tmp_path, monkeypatch):
    """matplotlib is an optional extra: without it, hem plot exits 2 with the install hint, writing nothing,
    and the Python functions raise ExtraNotInstalled (an ImportError)."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    result = run(runner, "plot", "periodic-table", "-o", str(tmp_path / "fig.png"))
    assert_one_line_error(result)
    assert result.stderr.splitlines()[1] == "hint: pip install 'hemkg[plot]'"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ExtraNotInstalled):
        capacity("CoO")
    with pytest.raises(ImportError):
        periodic_table()


def test_save_refuses_an_unknown_suffix(table, tmp_path):
    with pytest.raises(OutputError) as err:
        base.save(table, tmp_path / "fig.gif")
    assert ".png, .svg, .pdf" in err.value.hint and list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_earlier_file_whole(table, tmp_path, monkeypatch):
    """The figure goes through a temporary file: if rendering fails half-way, the earlier file is untouched."""
    path = base.save(table, tmp_path / "fig.png")
    before = path.read_bytes()

    def broken(self, stream, **kwargs):
        stream.write(b"half a figure")
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(type(table), "savefig", broken)
    with pytest.raises(RuntimeError):
        base.save(table, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["fig.png"]


def test_pareto_takes_the_very_options_of_hem_screen():
    """hem plot pareto reuses hem screen's selection options (the same click objects), so they cannot drift."""
    from hemkg.cli import SCREEN_SELECTION, plot_pareto, screen

    shared = [p for p in plot_pareto.params if p.name in SCREEN_SELECTION]
    assert len(shared) == len(SCREEN_SELECTION)
    assert all(any(p is q for q in screen.params) for p in shared)


def test_matplotlib_is_imported_only_when_a_figure_is_made():
    """Lazy: importing hemkg.figures' modules and hem --help load no matplotlib."""
    probe = ("import sys; import hemkg.figures.periodic, hemkg.figures.pareto, hemkg.figures.capacity; "
             "from click.testing import CliRunner; from hemkg.cli import main; "
             "assert CliRunner().invoke(main, ['plot', '--help']).exit_code == 0; "
             "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_figure_is_made_without_pyplot_and_shows_in_a_notebook(table):
    """No global pyplot figure is left behind (a notebook's own figures and backend are not touched), and a
    notebook shows the figure by itself (_repr_png_), whatever pyplot's backend."""
    assert "matplotlib.pyplot" not in sys.modules or not __import__("matplotlib.pyplot").pyplot.get_fignums()
    buffer = io.BytesIO()
    table.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")
    assert table._repr_png_().startswith(b"\x89PNG")


def test_a_screen_of_several_ions_names_the_ion_in_each_label():
    """Li+, Na+ and K+ (Section 3.1) give different capacities: a label says which ion its point is for."""
    rows = [{"formula": "(A)O", "ion": "Li", "capacity_total": 900.0, "stability_contributors": 1},
            {"formula": "(B)O", "ion": "Na", "capacity_total": 500.0, "stability_contributors": 2}]
    labels = {t.get_text() for t in pareto(rows).axes[0].texts if t.get_gid() == "front-label"}
    assert labels == {"(A)O, Li+", "(B)O, Na+"}


def test_readme_shows_the_three_figures():
    """README's Figures section names each hem plot command and shows a figure that is shipped and small."""
    import re

    root = Path(__file__).resolve().parent.parent
    section = (root / "README.md").read_text(encoding="utf-8").split("### Figures", 1)[1].split("\n## ", 1)[0]
    assert all(f"hem plot {name}" in section for name in ("periodic-table", "pareto", "capacity"))
    (image,) = re.findall(r"!\[[^]]*\]\(([^)]+)\)", section)
    assert (root / image).read_bytes().startswith(b"\x89PNG") and (root / image).stat().st_size < 200_000


def test_matplotlib_is_an_optional_extra():
    """pip install 'hemkg[plot]' adds matplotlib, the test extra has it, and a plain install does not."""
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text("utf-8"))["project"]

    def named(requirements: list[str]) -> set[str]:
        return {r.split(">")[0].split("=")[0].split("[")[0].strip() for r in requirements}

    assert "matplotlib" in named(project["optional-dependencies"]["plot"])
    assert "matplotlib" in named(project["optional-dependencies"]["test"])
    assert "matplotlib" not in named(project["dependencies"])
    assert base.INSTALL_HINT == "pip install 'hemkg[plot]'"
