"""Benchmarks: cold commands, consultations in process, screening, and SPARQL on a large store.

Prints figures only, never pass/fail: every figure stands next to its baseline,
measured in the same run. A full run takes several minutes; --quick scales
every part down so that the whole script runs in under a minute.

    python benchmarks/bench.py                       # everything
    python benchmarks/bench.py --quick               # a smoke test
    python benchmarks/bench.py --parts cold,profile  # some parts only

Parts:
  cold     cold commands (median wall time), as ratios to `python -c "import rdflib"`
  profile  where a cold `hem consult` spends its time (imports, then cProfile)
  consult  consultations per second in process, against the same rules run as
           SPARQL CONSTRUCT over rdflib and against owlrl's OWL-RL closure
  screen   `hem screen` on the whole equimolar space: rate, wall time, peak memory
  sparql   named questions on the graph plus N screened candidates, per store
  library  `hem evidence add` of 1,000 generated findings (issue 13: under 5 s), beside the command's start-up;
           with 1,000 findings of varied formulas: consultations/s in process, a cold `hem consult`, `hem evaluate`
           and `hem evidence conflicts`, each beside the same figure without a library
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import quote

CANDIDATES = [  # the paper's own examples (Sections 2.3, 3.1)
    ("(MgCoNiCuZn)O", "Li"),
    ("(LiFeZnNiCoMn)3O4", "Li"),
    ("InGeSiP3", "Li"),
    ("GaCuZnInGeSiP6", "Li"),
    ("Cu0.88Sn0.02Sb0.02Bi0.02Mn0.02S0.9Se0.1", "Na"),
    ("Sb1.4Bi0.2Sn0.2Co0.1Mn0.1Te3", "K"),
    ("SiGeSnSbBi", "Li"),
]
PARTS = ("cold", "profile", "consult", "screen", "sparql", "library")
MIB = 1024 * 1024
ENV = dict(os.environ)  # for every subprocess; see bytecode_env()


def bytecode_env(keep: bool) -> str:
    """With PYTHONDONTWRITEBYTECODE set, an editable install recompiles hemkg's sources on every start,
    which no installed copy does; unless told to keep the environment, subprocesses cache bytecode
    in a temporary folder instead (PYTHONPYCACHEPREFIX), leaving the source tree untouched."""
    if keep or not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return ""
    del ENV["PYTHONDONTWRITEBYTECODE"]
    ENV["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="hemkg-bench-pycache-")
    return ENV["PYTHONPYCACHEPREFIX"]


def hem_path() -> str:
    return shutil.which("hem") or str(Path(sys.executable).with_name("hem"))


def heading(text: str) -> None:
    print(f"\n== {text}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms"


# ====================================================================== 1. cold commands

def part_cold(args) -> None:
    hem = hem_path()
    commands = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ('python -c "import rdflib"', [sys.executable, "-c", "import rdflib"]),
        ("hem --help", [hem, "--help"]),
        ("hem consult '(MgCoNiCuZn)O' --json", [hem, "consult", "(MgCoNiCuZn)O", "--json"]),
        ("hem describe Zn --json", [hem, "describe", "Zn", "--json"]),
        ("hem screen --ions Li --anions O -k 5 --no-progress",
         [hem, "screen", "--ions", "Li", "--anions", "O", "-k", "5", "--no-progress"]),
    ]
    heading(f"1. Cold commands: median wall time of {args.cold_runs} rounds, each command once a round (after one "
            "warm-up run each); the ratio is the median of each round's")
    print("   target: a cold `hem consult` no slower than `python -c \"import rdflib\"`")
    runs = [(name, cmd, ENV) for name, cmd in commands]
    consult_cmd = commands[3][1]  # and two variants of it, right below it
    variants = [("  the same, HEMKG_CACHE_DIR=off (no disk cache)", consult_cmd, {**ENV, "HEMKG_CACHE_DIR": "off"})]
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and "PYTHONDONTWRITEBYTECODE" not in ENV:
        variants.append(("  the same, as given: PYTHONDONTWRITEBYTECODE=1", consult_cmd, dict(os.environ)))
    runs[4:4] = variants
    figures = interleaved(runs, args.cold_runs, 'python -c "import rdflib"')
    for name, (median, low, ratio) in figures.items():
        print(f"   {name:<52} {ms(median)}  (min {low * 1000:7.1f})   {ratio:5.2f} x import rdflib")


def interleaved(runs: list[tuple[str, list[str], dict]], rounds: int, baseline: str
                ) -> dict[str, tuple[float, float, float]]:
    """Each command's median and least wall time, and the median of its ratios to `baseline`'s, over `rounds`
    rounds in which every command runs once in turn (after one warm-up each): a ratio taken within a round holds
    when the machine's speed drifts between rounds."""
    for _, cmd, env in runs:
        subprocess.run(cmd, capture_output=True, check=True, env=env)  # warm the file and bytecode caches
    samples: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    for _ in range(rounds):
        for name, cmd, env in runs:
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, env=env)
            samples[name].append(time.perf_counter() - t)
    base = samples[baseline]
    return {name: (statistics.median(xs), min(xs), statistics.median(x / b for x, b in zip(xs, base, strict=True)))
            for name, xs in samples.items()}


# ====================================================================== profile of a cold hem consult

PROFILE_SCRIPT = r"""
import cProfile, contextlib, io, pstats, sys, time
argv = sys.argv[1:]
profile = cProfile.Profile()
t = time.perf_counter()
profile.enable()
import hemkg.cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        hemkg.cli.main(argv, standalone_mode=False)
    except SystemExit:
        pass
profile.disable()
wall = time.perf_counter() - t
stats = pstats.Stats(profile)
import os, sysconfig
prefixes = [os.path.dirname(sys.modules["hemkg"].__file__) + os.sep, sysconfig.get_paths()["purelib"] + os.sep,
            sysconfig.get_paths()["stdlib"] + os.sep]
rows = []
for (file, line, name), (cc, nc, tt, ct, callers) in stats.stats.items():
    short = next((file[len(p):] for p in prefixes if file.startswith(p)), file)
    where = f"{short}:{line}({name})" if line else name
    # the import machinery and click's dispatch: every import and the command itself pass through them
    plumbing = (file.startswith("<frozen importlib") or name == "<built-in method builtins.exec>"
                or "click/" in file or (file.endswith("cli.py") and name in ("main", "invoke")))
    rows.append((ct, tt, nc, where, plumbing))
print(f"{wall:.6f} {len(out.getvalue())}")
for ct, tt, nc, where, plumbing in sorted((r for r in rows if not r[4]), reverse=True)[:10]:
    print(f"cum\t{ct:.6f}\t{tt:.6f}\t{nc}\t{where}")
for ct, tt, nc, where, plumbing in sorted(rows, key=lambda r: -r[1])[:10]:
    print(f"own\t{ct:.6f}\t{tt:.6f}\t{nc}\t{where}")
"""


def part_profile(args) -> None:
    argv = ["consult", "(MgCoNiCuZn)O", "--json"]
    heading("Profile of a cold `hem consult '(MgCoNiCuZn)O' --json`, in a fresh process")
    # python -X importtime: the top-level imports by cumulative time
    subprocess.run([hem_path(), *argv], capture_output=True, check=True, env=ENV)  # warm the caches
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import sys, hemkg.cli\ntry:\n    hemkg.cli.main(sys.argv[1:], standalone_mode=False)\n"
                           "except SystemExit:\n    pass", *argv], capture_output=True, text=True, check=True, env=ENV)
    imports = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)", line)
        if m and len(m.group(3)) == 1:  # top level: imported by the program itself
            imports.append((int(m.group(2)), m.group(4)))
    total = sum(us for us, _ in imports)
    print(f"   python -X importtime: top-level imports {total / 1000:.1f} ms in all; the largest (cumulative):")
    for us, name in sorted(imports, reverse=True)[:8]:
        print(f"     {us / 1000:8.1f} ms  {name}")
    proc = subprocess.run([sys.executable, "-c", PROFILE_SCRIPT, *argv], capture_output=True, text=True, check=True, env=ENV)
    lines = proc.stdout.splitlines()
    wall, _ = lines[0].split()
    print(f"   cProfile of hemkg.cli.main([...], standalone_mode=False), imports included: {float(wall) * 1000:.0f} ms profiled")
    for kind, title in (("cum", "top 10 by cumulative time (the import machinery and click's dispatch left out)"),
                        ("own", "top 10 by own time")):
        print(f"   {title}:")
        print(f"     {'cumulative':>10} {'own':>9} {'calls':>7}  function")
        for line in lines[1:]:
            which, ct, tt, nc, where = line.split("\t")
            if which == kind:
                print(f"     {float(ct) * 1000:7.1f} ms {float(tt) * 1000:6.1f} ms {nc:>7}  {where}")


# ====================================================================== 2. consultations in process

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SPARQL_OPS = {"lt": "<", "gt": ">", "le": "<=", "ge": ">=", "ne": "!="}


def _literal(value):
    import rdflib

    return rdflib.Literal(value)  # str -> plain literal, float -> xsd:double


def _key(value) -> str:
    """What IRI(... ENCODE_FOR_URI(STR(term)) ...) makes of a value's RDF term."""
    return quote(str(_literal(value)), safe="")


def fact_iri(predicate: str, args) -> str:
    return "urn:fact:" + predicate + "".join("/" + _key(a) for a in args)


def type_iri(predicate: str, arity: int) -> str:
    # the arity is part of the type: note(topic) and note(topic, x) are different facts to the engine
    return f"urn:pred:{predicate}/{arity}"


def fact_triples(fact):
    import rdflib

    predicate, args = fact
    node = rdflib.URIRef(fact_iri(predicate, args))
    yield node, rdflib.RDF.type, rdflib.URIRef(type_iri(predicate, len(args)))
    for i, a in enumerate(args):
        yield node, rdflib.URIRef(f"urn:arg:{i}"), _literal(a)


class SparqlRules:
    """The engine's rules as SPARQL CONSTRUCT queries over the fact encoding above, run stratum by stratum."""

    def __init__(self, rules) -> None:
        from hemkg import engine

        self.text = [[self.construct(r) for r in stratum] for stratum in engine.stratify(rules)]
        self.count = sum(len(s) for s in self.text)

    def prepare(self) -> None:
        from rdflib.plugins.sparql import prepareQuery

        self.prepared = [[prepareQuery(q) for q in stratum] for stratum in self.text]

    @staticmethod
    def _var(name: str) -> str:
        return "?v_" + re.sub(r"\W", "_", name[1:])

    def construct(self, rule) -> str:
        from hemkg import engine

        fresh = itertools.count()

        def value(arg) -> str:
            if isinstance(arg, str) and arg.startswith("?"):
                return self._var(arg)
            if arg == "_":
                return f"?any{next(fresh)}"
            return _literal(arg).n3()

        def pattern(node: str, atom) -> str:
            return f"{node} a <{type_iri(atom.predicate, len(atom.args))}> " + "".join(
                f"; <urn:arg:{i}> {value(a)} " for i, a in enumerate(atom.args)) + "."

        where, binds, filters, template = [], [], [], []
        for i, atom in enumerate(a for a in rule.when if not a.negated and a.predicate not in engine.BUILTINS):
            where.append(pattern(f"?p{i}", atom))
        for i, atom in enumerate(a for a in rule.when if a.negated):
            filters.append(f"FILTER NOT EXISTS {{ {pattern(f'?n{i}', atom)} }}")
        for atom in rule.when:
            if atom.predicate in engine.BUILTINS and not atom.negated:
                left, right = atom.args
                filters.append(f"FILTER ({value(left)} {SPARQL_OPS[atom.predicate]} {value(right)})")
        for k, head in enumerate(rule.then):
            if not head.variables:
                node = f"<{fact_iri(head.predicate, head.args)}>"
            else:
                parts = [f'"urn:fact:{head.predicate}"']
                for a in head.args:
                    parts.append('"/"')
                    parts.append(f"ENCODE_FOR_URI(STR({self._var(a)}))" if isinstance(a, str) and a.startswith("?")
                                 else f'"{_key(a)}"')
                binds.append(f"BIND (IRI(CONCAT({', '.join(parts)})) AS ?h{k})")
                node = f"?h{k}"
            template.append(pattern(node, head))
        return "CONSTRUCT {\n  " + "\n  ".join(template) + "\n} WHERE {\n  " + "\n  ".join(where + binds + filters) + "\n}"

    def run(self, graph) -> tuple[int, int]:
        """Every stratum's CONSTRUCTs until a pass adds no triple; returns (passes, queries run)."""
        passes = queries = 0
        for stratum in self.prepared:
            while True:
                new = set()
                for q in stratum:
                    new.update(t for t in graph.query(q) if t not in graph)
                    queries += 1
                passes += 1
                if not new:
                    break
                for t in new:
                    graph.add(t)
        return passes, queries


def decoded(graph) -> set:
    """The facts of the encoding, back as engine facts."""
    import rdflib

    facts = set()
    for node, kind in graph.subject_objects(rdflib.RDF.type):
        if not str(kind).startswith("urn:pred:"):
            continue
        predicate, arity = str(kind).removeprefix("urn:pred:").rsplit("/", 1)
        args = []
        for i in range(int(arity)):
            v = graph.value(node, rdflib.URIRef(f"urn:arg:{i}")).toPython()
            args.append(str(v) if isinstance(v, rdflib.Literal) else v)
        facts.add((predicate, tuple(args)))
    return facts


def candidate_base(formula: str, ion: str) -> dict:
    """What consult() gives the rules besides the knowledge graph: input, estimates, oxidation states."""
    from hemkg.consultation.consultation import Structure, input_facts
    from hemkg.consultation.formula import parse_formula

    return input_facts(parse_formula(formula), ion, Structure())[0]


def candidate_graph(base, formula: str, ion: str):
    """A fresh rdflib graph: a copy of `base` plus the candidate's input facts as triples."""
    import rdflib

    graph = rdflib.Graph()
    for triple in base:
        graph.add(triple)
    for fact in candidate_base(formula, ion):
        for triple in fact_triples(fact):
            graph.add(triple)
    return graph


def example_library():
    """The findings of examples/findings.csv as a consultation reads them from a library (consultation/literature.py),
    and the seconds their facts took to read and index with the knowledge graph's (the rules compiled over them)."""
    from pathlib import Path

    from hemkg.consultation import literature
    from hemkg.consultation.findings import read

    t = time.perf_counter()
    contributions = read(Path(__file__).resolve().parent.parent / "examples" / "findings.csv").contributions
    library = literature.from_contributions(contributions, Path("examples"), "bench")
    library.shared  # noqa: B018 (built once per process and revision, as `hem consult` does)
    return library, time.perf_counter() - t


def new_stream(count: int, seed: int = 11) -> list[tuple[str, str]]:
    """`count` candidates (formula, ion), each of five of the 26 listed cations and a listed anion, drawn with a
    fixed seed: a stream none of which a process consulted before."""
    import random

    from hemkg.graph.vocab import vocab

    pick = random.Random(seed)
    cations = sorted(vocab().group("listed-cations").members)
    anions = sorted(vocab().group("listed-anions").members)
    combos = pick.sample(list(itertools.combinations(cations, 5)), count)
    return [(f"({''.join(c)}){pick.choice(anions)}", pick.choice(vocab().ion_symbols)) for c in combos]


def new_candidates(consult, summarise, count: int = 1000) -> None:
    """Consultations + JSON on a stream of new candidates (new_stream): what the paper's 7 repeated candidates
    cannot show, as a process caches what repeats (charge balance by composition, evidence items by derivation)."""
    stream = new_stream(count)
    t = time.perf_counter()
    for formula, ion in stream:
        summarise(consult(formula, ion))
    seconds = (time.perf_counter() - t) / count
    print(f"   {count:,} new five-cation candidates, each consulted once + JSON: {seconds * 1000:.3f} ms each, "
          f"{1 / seconds:,.0f}/s")


def part_consult(args) -> None:
    import rdflib

    from hemkg import engine
    from hemkg.answers.explain import explain
    from hemkg.answers.summary import summarise
    from hemkg.consultation.consultation import consult
    from hemkg.consultation.facts import knowledge_facts, shared_knowledge
    from hemkg.consultation.rules import paper_rules
    from hemkg.graph.store import to_rdflib

    heading("2. Consultations in process (the knowledge graph and the rules already loaded)")
    print("   target: at least 1,000 consultations per second with derivations and the JSON answer (issues 11, 12)")
    from hemkg.consultation.formula import _parsed

    read_formula = _parsed.__wrapped__  # parse_formula's checks and count, which it keeps per text

    consult(*CANDIDATES[0])  # load the graph and the rules once, as a long-running process would
    bases = [candidate_base(formula, ion) for formula, ion in CANDIDATES]
    library, built = example_library()
    print(f"   a library of examples/findings.csv ({len(library.findings)} findings, {len(library.facts)} rule facts): "
          f"read and indexed once per process and library revision in {built * 1000:.0f} ms")

    def full_answer(formula: str, ion: str) -> None:
        c = consult(formula, ion)
        summarise(c)
        explain(c, "all")

    # Each stage runs back to back over the 7 candidates, round after round: interleaving
    # them would time each consultation with the caches just emptied by the explanation.
    stages = [
        ("consult(): rules + derivations", lambda: [consult(f, i) for f, i in CANDIDATES]),
        ("  + JSON answer (to_dict)", lambda: [summarise(consult(f, i)) for f, i in CANDIDATES]),
        ("  + JSON, with the example library", lambda: [summarise(consult(f, i, library=library))
                                                        for f, i in CANDIDATES]),
        ("  + explanation tree (explain)", lambda: [full_answer(f, i) for f, i in CANDIDATES]),
        ("  of which engine.run alone", lambda: [engine.run(b, paper_rules(), shared=shared_knowledge()) for b in bases]),
        ("  of which reading each formula", lambda: [read_formula(f) for f, _ in CANDIDATES]),
    ]
    print(f"   {args.repeat} rounds over the paper's {len(CANDIDATES)} example candidates, each stage on its own:")
    print(f"   {'':<34} {'per candidate: median':>21} {'best':>8}   {'consultations/s: median':>23} {'best':>7}")
    per_consult = 0.0
    for name, stage in stages:
        rounds = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            stage()
            rounds.append((time.perf_counter() - t) / len(CANDIDATES))
        median, best = statistics.median(rounds), min(rounds)
        per_consult = per_consult or median
        rate = "" if "of which" in name else f"{1 / median:23,.0f} {1 / best:7,.0f}"
        print(f"   {name:<34} {median * 1000:18.3f} ms {best * 1000:5.3f} ms   {rate}")
    print(f"   (median and best of {args.repeat} rounds: this machine's speed drifts by up to 2x within minutes)")
    new_candidates(consult, summarise)
    facts = engine.run(bases[0], paper_rules(), shared=shared_knowledge())
    print(f"   one consultation of {CANDIDATES[0][0]}: {len(facts.facts) - len(knowledge_facts())} facts and "
          f"{sum(map(len, facts.derivations.values()))} derivations recorded, by {len(engine.load_rules())} rules "
          f"each run once (no rule depends on itself)")

    # (a) the same rules as SPARQL CONSTRUCT over rdflib, to a fixpoint
    rules = engine.load_rules()
    translated = SparqlRules(rules)
    t = time.perf_counter()
    translated.prepare()
    prepare_time = time.perf_counter() - t
    kg_graph = rdflib.Graph()
    for fact in knowledge_facts():
        kg_graph.addN((*tr, kg_graph) for tr in fact_triples(fact))
    chosen = CANDIDATES[: args.rule_candidates]
    print(f"\n   (a) the {translated.count} rules as SPARQL CONSTRUCT over rdflib {rdflib.__version__}, "
          f"{len(translated.text)} strata, each to a fixpoint")
    print(f"       ({len(knowledge_facts())} knowledge facts = {len(kg_graph)} triples; parsing the queries once: "
          f"{prepare_time:.2f} s, not counted below)")
    sparql_times = []
    for formula, ion in chosen:
        engine_facts = consult(formula, ion).result.facts
        t = time.perf_counter()
        g = candidate_graph(kg_graph, formula, ion)
        load = time.perf_counter() - t
        t = time.perf_counter()
        passes, queries = translated.run(g)
        seconds = time.perf_counter() - t
        sparql_times.append(load + seconds)
        got = decoded(g)
        status_engine = {f for f in engine_facts if f[0] == "status"}
        status_sparql = {f for f in got if f[0] == "status"}
        print(f"       {formula} ({ion}+): {load + seconds:7.2f} s per candidate (loading {load:.2f} s, rules {seconds:.2f} s;"
              f" {passes} passes, {queries} queries, {len(g)} triples)")
        agree = "agree" if status_engine == status_sparql else "DIFFER"
        print(f"         status facts {agree} with the engine's ({len(status_sparql)} vs {len(status_engine)}: "
              + ", ".join(f"{a[0]} {a[1]}" for _, a in sorted(status_sparql)) + ")")
        if got == engine_facts:
            print(f"         all {len(got)} facts agree with the engine's")
        else:
            print(f"         facts differ: {len(got - engine_facts)} only from SPARQL, {len(engine_facts - got)} only from "
                  f"the engine, e.g. {sorted(map(engine.fact_text, got ^ engine_facts))[:4]}")
    if not sparql_times:  # --rule-candidates 0: the in-process figures only
        return
    sparql_mean = statistics.mean(sparql_times)
    print(f"       -> {sparql_mean:.2f} s per candidate ({1 / sparql_mean:.2f} consultations/s), "
          f"{sparql_mean / per_consult:,.0f} x consult()")

    # (b) owlrl's OWL-RL closure of the knowledge graph plus the candidate's facts
    import owlrl

    version = getattr(owlrl, "__version__", "?")
    kg_rdf = to_rdflib()
    owl_times = []
    formula, ion = CANDIDATES[0]
    print(f"\n   (b) owlrl {version}: DeductiveClosure(OWLRL_Semantics).expand on the knowledge graph "
          f"(store.to_rdflib(), {len(kg_rdf)} triples) plus {formula}'s facts, {args.owl_runs} run(s)")
    for _ in range(args.owl_runs):
        g = candidate_graph(kg_rdf, formula, ion)
        before = len(g)
        t = time.perf_counter()
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
        owl_times.append(time.perf_counter() - t)
    owl = statistics.median(owl_times)
    print(f"       {owl:7.2f} s per candidate ({before} -> {len(g)} triples; {1 / owl:.2f} closures/s), "
          f"{owl / per_consult:,.0f} x consult()")
    print("       (OWL-RL entails the ontology's axioms, not the paper's rules: no status is derived; "
          "this is the cost of a generic reasoner on the same graph)")


# ====================================================================== 3. screening

# Runs a command and reports its wall time, ru_maxrss of its children (the largest
# single process) and the peak PSS of its whole process tree (sampled every 0.1 s).
WRAPPER = r"""
import json, os, resource, subprocess, sys, threading, time
cmd = json.loads(sys.argv[1])

def tree_pss(root):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total

peak = [0]
stop = threading.Event()
def poll(pid):
    while not stop.wait(0.1):
        peak[0] = max(peak[0], tree_pss(pid))

t = time.perf_counter()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
thread = threading.Thread(target=poll, args=(p.pid,), daemon=True)
thread.start()
out, err = p.communicate()
wall = time.perf_counter() - t
stop.set()
thread.join()
print(json.dumps({"wall": wall, "rc": p.returncode, "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "peak_pss_kib": peak[0], "stdout": out.decode()[-3000:], "stderr": err.decode()[-3000:]}))
"""

# screen.screen() through the Python API with default_executor(), timed inside the process
API_SCRIPT = r"""
import json, sys, time
from hemkg.screening import run as sc
spec = json.loads(sys.argv[1])
space = sc.Space(ions=tuple(spec["ions"]), anions=tuple(sc.AnionOption.parse(a) for a in spec["anions"]))
t = time.perf_counter()
executor = sc.default_executor(None)
writer = sc.Writer(spec["output"]) if spec["output"] else None
try:
    summary = sc.screen(space, executor=executor, sink=writer)
finally:
    if executor is not None:
        executor.shutdown()
if writer:
    writer.close()
print(json.dumps({"seconds": time.perf_counter() - t, "screened": summary.screened, "top": summary.top[0]["formula"]}))
"""


def measured(cmd: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", WRAPPER, json.dumps(cmd)], capture_output=True, text=True, check=True,
                          env=ENV)
    result = json.loads(proc.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result['rc']}): {result['stderr']}")
    return result


def part_screen(args) -> None:
    from hemkg.screening import run as sc

    ions, anions = (["Li"], ["O"]) if args.quick_screen else (["Li", "Na", "K"], ["P", "S", "O", "Se", "Te", "none"])
    space = sc.Space(ions=tuple(ions), anions=tuple(sc.AnionOption.parse(a) for a in anions))
    total = space.count()
    workers = os.cpu_count()
    what = "the whole equimolar space" if not args.quick_screen else "a part of the space (--quick)"
    heading(f"3. hem screen on {what}: {total:,} candidates "
            f"(5 of the 26 cations; anions {','.join(anions)}; ions {','.join(ions)}), {workers} workers")
    print("   targets: under 4 s (issues 11, 12), peak memory under 1 GiB")
    print(f"   median of {args.screen_runs} run(s) ({args.parquet_runs} with -o); peak memory: ru_maxrss of the largest process "
          "(RUSAGE_CHILDREN in a fresh parent) and the peak PSS summed over the process tree (sampled)")
    hem = hem_path()
    out = Path(tempfile.gettempdir()) / f"hemkg-bench-{os.getpid()}.parquet"
    print(f"   {'':<48} {'wall':>9} {'candidates/s':>13} {'maxrss':>10} {'tree PSS':>10}")
    print(f"   (FILE: {out})")
    for label, output in (("", None), (" -o FILE.parquet", out)):
        cli = [hem, "screen", "--ions", ",".join(ions), "--anions", ",".join(anions), "--no-progress"]
        if output:
            cli += ["-o", str(output)]
        spec = json.dumps({"ions": ions, "anions": anions, "output": str(output) if output else None})
        api = [sys.executable, "-c", API_SCRIPT, spec]
        for name, cmd in ((f"hem screen --no-progress{label}", cli), (f"screen.screen() (Python API){label}", api)):
            runs = [measured(cmd) for _ in range(args.parquet_runs if output else args.screen_runs)]
            walls = [r["wall"] for r in runs]
            wall = statistics.median(walls)
            rss = max(r["maxrss_kib"] for r in runs) / 1024
            pss = max(r["peak_pss_kib"] for r in runs) / 1024
            print(f"   {name:<48} {wall:7.2f} s {total / wall:13,.0f} {rss:6.0f} MiB {pss:6.0f} MiB")
            if cmd is api:
                inside = statistics.median(json.loads(r["stdout"].strip().splitlines()[-1])["seconds"] for r in runs)
                print(f"   {'  of which screen.screen() itself':<48} {inside:7.2f} s {total / inside:13,.0f}"
                      "   (interpreter start and imports excluded)")
            if output:
                size = output.stat().st_size / MIB
                print(f"   {'  file written':<48} {size:7.1f} MiB")
                output.unlink()
    # where the time goes: the same steps one after another in this process, on one core
    t = time.perf_counter()
    n = sum(len(b.amounts) for b in space.batches())
    generate = time.perf_counter() - t
    t = time.perf_counter()
    for b in space.batches():
        sc.evaluate(b)
    evaluate = time.perf_counter() - t - generate
    batch = next(space.batches())
    result = sc.evaluate(batch)
    t = time.perf_counter()
    rows = len(sc.columns_of(result, batch.ion, batch.universe)["formula"])
    per_row = (time.perf_counter() - t) / rows
    print(f"   one core, in this process: generating the {n:,} candidates (done by the parent alone) {generate:.2f} s;")
    print(f"   evaluating them with the compiled rules {evaluate:.2f} s (tables compiled on first use); columns_of(), "
          f"the rows -o writes, {per_row * 1e6:.1f} us a row = {per_row * n:.1f} s for all (with -o the workers "
          "format the formulas, the parent the rest)")


# ====================================================================== 4. SPARQL latency of the named questions

SCREEN_NS = "https://w3id.org/hemkg/screen#"  # benchmark-only terms for screened rows
CANDIDATE_NS = "https://w3id.org/hemkg/candidate/"
SCREENED_GRAPH = "https://w3id.org/hemkg/graph/screened"


class _Enough(Exception):
    pass


def screened(n: int) -> list[tuple[dict, list[str]]]:
    """The first n rows screen.screen() gives on the whole space, each with its elements."""
    from hemkg.screening import run as sc

    rows: list[tuple[dict, list[str]]] = []

    def sink(kept, batch) -> None:
        for row, amounts in zip(sc.rows_of(kept, batch.ion, batch.universe), kept["amounts"], strict=True):
            rows.append((row, [s for s, a in zip(batch.universe, amounts, strict=True) if a > 0]))
            if len(rows) == n:
                raise _Enough

    executor = sc.default_executor(None)
    try:
        sc.screen(sc.Space(), executor=executor, sink=sink)
    except _Enough:
        pass
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    return rows


def _nt_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def candidate_ntriples(rows) -> tuple[str, int]:
    from hemkg.graph.store import HEM, HEMKG

    lines = []
    double = "^^<http://www.w3.org/2001/XMLSchema#double>"
    for row, elements in rows:
        c = f"<{CANDIDATE_NS}{row['ion']}/{quote(row['formula'], safe='')}>"
        lines.append(f"{c} <{RDF_TYPE}> <{HEM}Material> .")
        lines.append(f"{c} <{HEM}formula> {_nt_string(row['formula'])} .")
        lines.append(f"{c} <{SCREEN_NS}carrierIon> <{HEMKG}{row['ion']}-ion> .")
        for m in ("intercalation", "conversion", "alloying", "space_charge"):
            lines.append(f"{c} <{SCREEN_NS}{m}> {_nt_string(row[m])} .")
        lines.append(f'{c} <{SCREEN_NS}capacityTotal> "{row["capacity_total"]!r}"{double} .')
        for s in elements:
            lines.append(f"{c} <{HEM}hasConstituent> <{HEMKG}{s}> .")
    return "\n".join(lines) + "\n", len(lines)


def part_sparql(args) -> None:
    import gc

    import pyoxigraph as ox
    import rdflib

    from hemkg.graph.store import ASSERTED_GRAPH, PREFIXES, build_store
    from hemkg.sparql import query as sp
    from hemkg.sparql.questions import questions

    heading(f"4. Named questions on the knowledge graph plus {args.candidates:,} screened candidates, per store")
    t = time.perf_counter()
    rows = screened(args.candidates)
    screen_time = time.perf_counter() - t
    kg_nt = ox.serialize((q.triple for q in build_store()), format=ox.RdfFormat.N_TRIPLES).decode()
    cand_nt, cand_triples = candidate_ntriples(rows)
    kg_triples = kg_nt.count("\n")
    print(f"   {len(rows):,} rows from screen.screen() in {screen_time:.1f} s -> {cand_triples:,} triples "
          f"(type, formula, ion, 4 statuses, capacity, hem:hasConstituent per element); the graph: {kg_triples:,} triples")
    qs = questions()
    bindings = {name: q.bindings({}) for name, q in qs.items()}
    runs = args.query_runs
    print(f"   median latency of {runs} runs (after one warm-up), every row read; defaults for the parameters")

    def time_query(fn) -> tuple[float, int]:
        count = fn()
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        return statistics.median(samples), count

    latency: dict[tuple[str, str, str], tuple[float, int]] = {}
    loads = []
    for size, extra in (("graph", ""), ("+N", cand_nt)):
        # pyoxigraph: the graph in the asserted named graph, the candidates in one of their own
        gc.collect()
        t = time.perf_counter()
        store = ox.Store()
        store.load(kg_nt, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(ASSERTED_GRAPH))
        if extra:
            store.load(extra, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(SCREENED_GRAPH))
        loads.append((f"pyoxigraph {ox.__version__}", size, time.perf_counter() - t, len(store)))
        for name, q in qs.items():
            subs = {ox.Variable(k): ox.NamedNode(v) for k, v in bindings[name].items()}
            # each lambda binds what it reads: `store` is deleted after the loop, and time_query runs it now
            latency[("oxigraph Store.query", size, name)] = time_query(
                lambda store=store, q=q, subs=subs: sum(
                    1 for _ in store.query(q.query, prefixes=PREFIXES, use_default_graph_as_union=True,
                                           substitutions=subs)))
            latency[("hem's sparql.run", size, name)] = time_query(
                lambda store=store, q=q, name=name: sp.run(
                    q.query, store, "csv", 60.0, 10**7, {SCREENED_GRAPH}, bindings[name]).count)
        del store
        gc.collect()
        t = time.perf_counter()
        graph = rdflib.Graph()
        graph.parse(data=kg_nt + extra, format="nt")
        loads.append((f"rdflib {rdflib.__version__}", size, time.perf_counter() - t, len(graph)))
        for name, q in qs.items():
            init = {k: rdflib.URIRef(v) for k, v in bindings[name].items()}
            latency[("rdflib Graph.query", size, name)] = time_query(
                lambda graph=graph, q=q, init=init: sum(
                    1 for _ in graph.query(q.query, initNs=PREFIXES, initBindings=init)))
        del graph
    print("   loading (N-Triples, parsed by the store):")
    for store_name, size, seconds, count in loads:
        label = "the graph" if size == "graph" else f"the graph + {len(rows):,} candidates"
        print(f"     {store_name:<18} {label:<34} {seconds:8.2f} s  {count:>10,} triples"
              f"  ({count / seconds:,.0f} triples/s)")
    columns = [("oxigraph Store.query", "graph"), ("oxigraph Store.query", "+N"), ("hem's sparql.run", "graph"),
               ("hem's sparql.run", "+N"), ("rdflib Graph.query", "graph"), ("rdflib Graph.query", "+N")]
    print("   latency in ms: 'graph' is the graph alone (the baseline), '+N' with the candidates;")
    print("   sparql.run is the `hem sparql`/`hem ask` path: query check, forked child with a time limit, CSV")
    short = {"oxigraph Store.query": "oxigraph", "hem's sparql.run": "sparql.run", "rdflib Graph.query": "rdflib"}
    print(f"     {'question':<36}" + "".join(f"{short[s]:>11}" for s, _ in columns))
    print(f"     {'':<36}" + "".join(f"{size:>11}" for _, size in columns) + f"{'rows':>7}")
    for name in qs:
        cells = [latency[(s, size, name)] for s, size in columns]
        counts = {c for _, c in cells}
        rows_text = str(cells[0][1]) if len(counts) == 1 else "/".join(str(c) for _, c in cells)
        print(f"     {name:<36}" + "".join(f"{sec * 1000:11.2f}" for sec, _ in cells) + f"{rows_text:>7}")


# ====================================================================== main

# ====================================================================== 6. the literature library

def part_library(args) -> None:
    """Wall time of `hem evidence` commands on a fresh library in a temporary folder, median of the runs."""
    import csv

    heading("library: hem evidence add of generated findings (the rows of examples/findings.csv, new DOIs)")
    print("   target: adding 1,000 findings in under 5 s")
    root = Path(__file__).resolve().parent.parent
    with open(root / "examples" / "findings.csv", newline="", encoding="utf-8") as f:
        base = list(csv.DictReader(f))
    columns = list(base[0])
    runs = 1 if args.quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        def timed(cmd: list[str], library: str) -> float:
            env = {**ENV, "HEMKG_LIBRARY": str(Path(tmp) / library)}
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "hemkg", *cmd], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"hem {' '.join(cmd)} failed: {done.stderr}")
            return time.perf_counter() - started

        def write(name: str, rows: list[dict]) -> str:
            path = Path(tmp) / name
            with open(path, "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
            return str(path)

        per_paper = write("250-papers.csv", [{**base[i % 4], "doi": f"10.5555/bench.{i // 4}"} for i in range(1000)])
        one_each = write("1000-papers.csv", [{**base[4], "doi": f"10.5555/one.{i}"} for i in range(1000)])
        rows = [("hem evidence template (start-up, no library)", lambda r: timed(["evidence", "template"], "none"))]
        rows += [("add 1,000 findings of 250 papers", lambda r: timed(["evidence", "add", per_paper], f"a{r}")),
                 ("  the same again (all unchanged)", lambda r: timed(["evidence", "add", per_paper], f"a{r}")),
                 ("  list 250 contributions", lambda r: timed(["evidence", "list"], f"a{r}")),
                 ("  export them as TriG", lambda r: timed(["evidence", "export"], f"a{r}")),
                 ("add 1,000 findings of 1,000 papers", lambda r: timed(["evidence", "add", one_each], f"b{r}"))]
        generated = generated_rows(base)
        varied = write("1000-varied.csv", generated)
        contributions = len({(r["doi"], r["formula"]) for r in generated})
        rows.append((f"add 1,000 findings of {contributions} contributions, varied formulas",
                     lambda r: timed(["evidence", "add", varied], f"c{r}")))
        for label, run in rows:
            times = [run(r) for r in range(runs)]
            print(f"   {label:<48} {statistics.median(times):7.2f} s   (best {min(times):.2f} s of {runs})")
        part_library_use(args, tmp, str(Path(tmp) / "c0"))


def generated_rows(base: list[dict], count: int = 1000) -> list[dict]:
    """`count` findings made from the example file's contributions, each copy with its own DOI and a formula of its
    own: five listed cations (those the rows name among them) and a listed anion, drawn with a fixed seed."""
    import random

    from hemkg.graph.vocab import vocab

    pick = random.Random(13)
    cations = sorted(vocab().group("listed-cations").members)
    anions = sorted(vocab().group("listed-anions").members)
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in base:
        groups.setdefault((row["doi"], row["formula"]), []).append(row)
    templates = list(groups.values())
    out: list[dict] = []
    for k in itertools.count():
        group = templates[k % len(templates)]
        named = sorted({r["element"] for r in group if r["element"]})
        chosen = named + pick.sample([c for c in cations if c not in named], 5 - len(named))
        formula = f"({''.join(chosen)}){pick.choice(anions)}"
        for row in group:
            out.append({**row, "doi": f"10.5555/bench-lib.{k}", "formula": formula, "title": ""})
            if len(out) == count:
                return out
    return out


LIBRARY_RATE_SCRIPT = r"""
import sys, time
from hemkg.answers.summary import summarise
from hemkg.consultation import literature
from hemkg.consultation.consultation import consult
candidates = [tuple(x.split("|")) for x in sys.argv[2].split(",")]
t = time.perf_counter()
library = literature.load() if sys.argv[1] == "with" else None
if library is not None:
    library.shared
loaded = time.perf_counter() - t
for f, i in candidates:
    summarise(consult(f, i, library=library))
rounds = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    for f, i in candidates:
        summarise(consult(f, i, library=library))
    rounds.append((time.perf_counter() - t) / len(candidates))
print(loaded, len(library.findings) if library else 0, *rounds)
"""

# the same on a stream of new candidates (new_stream): per-candidate work the 7 repeated candidates
# hide where a process keeps what repeats
LIBRARY_STREAM_SCRIPT = r"""
import sys, time
sys.path.insert(0, sys.argv[3])
from bench import new_stream
from hemkg.answers.summary import summarise
from hemkg.consultation import literature
from hemkg.consultation.consultation import consult
library = literature.load() if sys.argv[1] == "with" else None
summarise(consult("(MgCoNiCuZn)O", "Li", library=library))
stream = new_stream(int(sys.argv[2]))
t = time.perf_counter()
for f, i in stream:
    summarise(consult(f, i, library=library))
print((time.perf_counter() - t) / len(stream))
"""


def part_library_use(args, tmp: str, library: str) -> None:
    """With the generated library of 1,000 findings: consultations + JSON in process, a cold `hem consult`, and
    `hem evaluate`, each beside the same figure without a library, in the same run."""
    with_env = {**ENV, "HEMKG_LIBRARY": library}
    without_env = {**ENV, "HEMKG_LIBRARY": str(Path(tmp) / "none")}
    print("   targets: >= 1,000 consultations/s in process with the JSON answer; a cold hem consult <= 1.2 x import "
          "rdflib; hem evaluate under 2 s")
    # processes with and without the library in turn, their rounds pooled: this machine's speed drifts within
    # minutes, and one process each would compare two moments
    processes = 6
    rounds = str(max(3, args.repeat // 4 // processes))
    candidates = ",".join(f"{f}|{i}" for f, i in CANDIDATES)
    kinds = (("no library", without_env, "without"), ("1,000 findings", with_env, "with"))
    pooled: dict[str, list[float]] = {label: [] for label, _, _ in kinds}
    first_load: dict[str, tuple[float, float]] = {}
    for k in range(processes):
        for label, env, which in kinds if k % 2 == 0 else kinds[::-1]:
            done = subprocess.run([sys.executable, "-c", LIBRARY_RATE_SCRIPT, which, candidates, rounds], env=env,
                                  capture_output=True, text=True, check=True)
            loaded, findings, *times = (float(x) for x in done.stdout.split())
            first_load.setdefault(label, (loaded, findings))  # the first read builds the library's index
            pooled[label] += times
    for label, times in pooled.items():
        loaded, findings = first_load[label]
        extra = f"; library first read and indexed in {loaded * 1000:.0f} ms ({findings:.0f} findings)" \
            if findings else ""
        print(f"   consult + JSON in process, {label:<15} {1 / statistics.median(times):7,.0f}/s median, "
              f"{1 / min(times):7,.0f}/s best{extra}")
    print(f"     ({processes} processes in turn, {rounds} rounds each over the {len(CANDIDATES)} candidates)")
    count = 200 if args.quick else 1000
    streamed: dict[str, list[float]] = {label: [] for label, _, _ in kinds}
    for k in range(4):
        for label, env, which in kinds if k % 2 == 0 else kinds[::-1]:
            done = subprocess.run([sys.executable, "-c", LIBRARY_STREAM_SCRIPT, which, str(count),
                                   str(Path(__file__).resolve().parent)], env=env,
                                  capture_output=True, text=True, check=True)
            streamed[label].append(float(done.stdout))
    for label, seconds in streamed.items():
        print(f"   {count:,} new five-cation candidates + JSON, {label:<15} {1 / statistics.median(seconds):7,.0f}/s "
              f"median of {len(seconds)} processes (each candidate consulted once)")
    hem = [sys.executable, "-m", "hemkg"]
    # the same stream as a researcher runs it: one `hem` process over a file, start-up and library read included
    stream_file = Path(tmp) / "stream.csv"
    stream_file.write_text("formula,ion\n" + "".join(f"{f},{i}\n" for f, i in new_stream(count)), encoding="utf-8")
    batch = [(f"hem consult --input ({count:,} new) --json, {label}",
              [*hem, "consult", "--input", str(stream_file), "--json"], env) for label, env, _ in kinds]
    rounds_batch = 1 if args.quick else 3
    for name, (median, best, _) in interleaved(batch, rounds_batch, batch[0][0]).items():
        print(f"   {name:<60} {median:5.2f} s median ({count / median:,.0f}/s), best {best:.2f} s "
              f"of {rounds_batch}")
    runs = args.cold_runs
    cold = [('python -c "import rdflib"', [sys.executable, "-c", "import rdflib"], without_env),
            ("hem consult '(MgCoNiCuZn)O' --json, no library", [*hem, "consult", "(MgCoNiCuZn)O", "--json"],
             without_env),
            ("  the same with 1,000 findings", [*hem, "consult", "(MgCoNiCuZn)O", "--json"], with_env),
            ("hem evidence conflicts --json, 1,000 findings", [*hem, "evidence", "conflicts", "--json"], with_env),
            ("hem evaluate --json, 1,000 findings", [*hem, "evaluate", "--json"], with_env)]
    figures = interleaved(cold, runs, 'python -c "import rdflib"')  # the warm-up is also the library's first read
    for name, (median, _, ratio) in figures.items():
        print(f"   {name:<52} {ms(median)}   {ratio:5.2f} x import rdflib   (median of {runs} rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=textwrap.dedent(__doc__.split("\n", 2)[2]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="scale every part down (a smoke test, under a minute)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {','.join(PARTS)}")
    parser.add_argument("--keep-env", action="store_true",
                        help="run subprocesses with the environment as given, even with PYTHONDONTWRITEBYTECODE set")
    parser.add_argument("--cold-runs", type=int, help="runs of each cold command (default 7; quick 3)")
    parser.add_argument("--repeat", type=int, help="rounds over the 7 example candidates in process (default 200; quick 20)")
    parser.add_argument("--rule-candidates", type=int, help="candidates run as SPARQL CONSTRUCT (default 7; quick 1)")
    parser.add_argument("--owl-runs", type=int, help="owlrl closures (default 3; quick 1)")
    parser.add_argument("--screen-runs", type=int, help="runs of each screen (default 3; quick 1)")
    parser.add_argument("--parquet-runs", type=int, help="runs of each screen writing Parquet (default 1)")
    parser.add_argument("--quick-screen", action="store_true", default=None,
                        help="screen only Li with O (65,780 candidates) instead of the whole space (quick: on)")
    parser.add_argument("--candidates", type=int, help="screened candidates loaded for the questions (default 100,000; quick 2,000)")
    parser.add_argument("--query-runs", type=int, help="runs of each question per store (default 5; quick 2)")
    args = parser.parse_args()
    defaults = {"cold_runs": (7, 3), "repeat": (200, 20), "rule_candidates": (7, 1), "owl_runs": (3, 1),
                "screen_runs": (3, 1), "parquet_runs": (1, 1), "quick_screen": (False, True), "candidates": (100_000, 2_000), "query_runs": (5, 2)}
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")

    import hemkg

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    print(f"hemkg {hemkg.__version__} benchmarks{' (--quick)' if args.quick else ''}, "
          f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {os.cpu_count()} cores (nproc), {cpu}; Python {platform.python_version()} on {platform.platform()}")
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty=+uncommitted changes"],
                             capture_output=True, text=True, check=True).stdout.strip()
        print(f"source: {root} at {rev}")
    except (OSError, subprocess.CalledProcessError):
        pass
    cache = bytecode_env(args.keep_env)
    if cache:
        print("note: PYTHONDONTWRITEBYTECODE is set here, so each start would recompile hemkg's own sources (an editable"
              f" install);\n      subprocesses run without it, caching bytecode in {cache} (--keep-env: as given)")
    started = time.perf_counter()
    try:
        for part in PARTS:
            if part in parts:
                globals()[f"part_{part}"](args)
    finally:
        if cache:
            shutil.rmtree(cache, ignore_errors=True)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
