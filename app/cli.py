"""The ``wavefab`` command line.

Exit codes: 0 ok, 1 the run failed, 2 bad usage or unreadable input. User errors print one line,
no traceback. Heavy modules (torch, numba) are imported only by the subcommand that needs them,
so ``--help`` and ``--version`` are instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wavefab")
    except PackageNotFoundError:
        return "unknown"


def _cmd_demo(args: argparse.Namespace) -> int:
    from wavefab.designkit.demo import fabrication_demo
    from wavefab.designkit.optimize import EpochEnd, RunStart

    def show(event: object) -> None:
        if isinstance(event, RunStart):
            print(f"optimizing the SLA lens ({event.epochs} epochs, about 1-2 min) ...",
                  flush=True)
        elif isinstance(event, EpochEnd):
            print(f"  epoch {event.epoch + 1}: {_format_metrics(event.metrics)}", flush=True)

    demo = fabrication_demo(args.out, epochs=args.epochs, on_event=show)
    m = demo.metrics
    print(f"binary design: focus gain {m.get('binary_focus_gain', float('nan')):.2f}x the "
          f"unpatterned medium; DRC {'PASS' if demo.drc_pass else 'FAIL'}")
    print(f"wrote {demo.result_dir}/ (results: metrics, design, DRC report, plots)")
    for path in demo.files.values():
        print(f"wrote {path}")
    print(f"done in {demo.seconds:.0f} s")
    return 0


def _format_metrics(metrics: dict, keys: tuple[str, ...] = ()) -> str:
    """``name value`` pairs of the scalar metrics (all of them when ``keys`` is empty)."""
    names = keys or tuple(k for k, v in metrics.items() if isinstance(v, float))
    return ", ".join(f"{k.replace('_', ' ')} {metrics[k]:.3f}" for k in names if k in metrics)


def _cmd_run(args: argparse.Namespace) -> int:
    import time

    from wavefab.designkit.config import load_config
    from wavefab.designkit.optimize import BatchEnd, EpochEnd, RunEnd, RunStart
    from wavefab.designkit.run import run

    if args.threads is not None:
        import torch

        from wavefab.solver import set_num_threads

        set_num_threads(args.threads)
        torch.set_num_threads(args.threads)
    config = load_config(args.config, args.set or [])
    out = args.out or f"results/{args.config.stem}"
    folds = epochs = total = 1
    start = time.perf_counter()
    done = 0
    running: list[float] = []  # losses of the epoch so far
    tty = sys.stderr.isatty()
    shown = ("loss", "train_accuracy", "test_accuracy", "focus_gain", "gray_level")
    for event in run(config, out, data_dir=args.data, resume=args.resume, device=args.device):
        if isinstance(event, RunStart):
            folds, epochs = event.folds, event.epochs
            total = folds * epochs - (event.first_fold * epochs + event.first_epoch)
            if event.first_fold or event.first_epoch:
                print(f"resuming at fold {event.first_fold + 1} epoch {event.first_epoch + 1}",
                      file=sys.stderr)
        elif isinstance(event, BatchEnd):
            running = [*running, event.loss] if event.batch else [event.loss]
            if tty:
                fraction = (done + (event.batch + 1) / event.batches) / max(total, 1)
                elapsed = time.perf_counter() - start
                eta = elapsed / fraction * (1 - fraction) if fraction > 0 else 0
                print(f"\rfold {event.fold + 1}/{folds} epoch {event.epoch + 1}/{epochs} "
                      f"batch {event.batch + 1}/{event.batches} running loss "
                      f"{sum(running) / len(running):.3f} ETA {eta:.0f} s   ", end="",
                      file=sys.stderr, flush=True)
        elif isinstance(event, EpochEnd):
            done += 1
            figures = _format_metrics({"loss": event.loss, **event.metrics}, shown)
            print(("\r" if tty else "") + f"fold {event.fold + 1}/{folds} epoch "
                  f"{event.epoch + 1}/{epochs}: {figures} ({event.seconds:.1f} s)",
                  file=sys.stderr, flush=True)
        elif isinstance(event, RunEnd):
            m = event.metrics
            scalars = {k: v for k, v in m.items() if isinstance(v, float) and k != "loss"}
            mean = f" (mean of {folds} folds)" if folds > 1 else ""
            print(f"{_format_metrics(scalars)}{mean}; results in {out}")
            if "drc_pass" in m:
                print("design-rule check of the final design(s): "
                      + ("PASS" if m["drc_pass"] else f"FAIL (see {out}/drc.png)"))
    return 0


def _drc_input(args: argparse.Namespace) -> tuple:
    """``(binary, region, rules from the run, pitch, out folder, stem)`` of a folder or file."""
    import numpy as np

    from wavefab.designkit.errors import DesignValueError

    target: Path = args.result
    pitch = _length(args.pitch, "--pitch")
    if target.is_dir():
        from wavefab.designkit.export import load_design

        design = load_design(target)
        region = (design.region if design.region is not None
                  else np.ones(design.shape, bool)).astype(bool)
        return (design.binary, region, (design.min_solid_cells, design.min_void_cells),
                pitch if pitch is not None else design.pitch, target, "drc")
    if not target.exists():
        raise DesignValueError(f"{target} does not exist; give a results folder or a layout/"
                               "mesh file")
    from wavefab.designkit.export import import_raster, output_kind
    from wavefab.designkit.layout import SUFFIXES, read_layout

    meta: dict = {}
    if target.suffix.lower() in SUFFIXES:
        meta = read_layout(target, layer=_layer(args.layer)).metadata
    elif output_kind(target) not in ("stl", "3mf", "obj", "dxf"):
        raise DesignValueError(f"cannot check {target}: give a results folder or a GDS, OASIS, "
                               "STL, 3MF, OBJ or DXF file")
    try:
        recorded = float(meta["pitch_m"]) if "pitch_m" in meta else None
        recorded_shape = tuple(int(v) for v in meta["shape"].split()) if "shape" in meta else None
    except ValueError:
        raise DesignValueError(f"{target}: its recorded pitch/shape are unreadable; pass "
                               "--pitch") from None
    if pitch is None:
        pitch = recorded
    if pitch is None:
        raise DesignValueError(f"--pitch (the cell size to rasterize {target.name} at, e.g. "
                               "50nm) is needed: the file does not record one")
    if recorded_shape is not None and recorded is not None and abs(pitch - recorded) <= \
            1e-9 * recorded and len(recorded_shape) == 2:
        shape = recorded_shape
    else:  # another pitch than the file's: cover its whole extent
        shape = _file_shape(target, pitch, _layer(args.layer))
    coverage = import_raster(target, shape, pitch, layer=_layer(args.layer))
    return (coverage > 0.5, np.ones(shape, bool), (0, 0), pitch, target.parent,
            f"{target.stem}.drc")


def _file_shape(target: Path, pitch: float, layer: tuple[int, int] | None) -> tuple[int, int]:
    """Rows and columns covering a file's shapes from the origin at ``pitch``."""
    import math

    from wavefab.designkit.export import output_kind
    from wavefab.designkit.layout import read_layout

    if output_kind(target) in ("gds", "oas"):
        bounds = read_layout(target, layer=layer).geometry.bounds
    elif output_kind(target) == "dxf":
        from wavefab.designkit.outlines import read_dxf

        bounds = read_dxf(target).bounds
    else:
        from wavefab.designkit.meshes import read_mesh

        mm = read_mesh(target).bounds  # [[xmin, ymin, zmin], [xmax, ymax, zmax]] in mm
        bounds = (mm[0][0] * 1e-3, mm[0][1] * 1e-3, mm[1][0] * 1e-3, mm[1][1] * 1e-3)
    rows = max(1, math.ceil(bounds[3] / pitch - 1e-9))
    return rows, max(1, math.ceil(bounds[2] / pitch - 1e-9))


def _cmd_drc(args: argparse.Namespace) -> int:
    import numpy as np

    from wavefab.designkit.errors import DesignValueError
    from wavefab.designkit.processes import get_process, parse_length
    from wavefab.designkit.results import write_drc

    binary, region, (run_solid, run_void), pitch, folder, stem = _drc_input(args)
    solid = void = None
    if args.min_feature_cells is not None:
        solid = void = args.min_feature_cells
    elif args.min_feature is not None or args.process is not None:
        if pitch is None:
            raise DesignValueError("--pitch (the size of one cell, e.g. 50nm) is needed to "
                                   "turn a physical rule into cells")
        if args.min_feature is not None:
            solid = void = int(np.ceil(parse_length(args.min_feature, "--min-feature") / pitch
                                       - 1e-9))
        else:
            proc = get_process(args.process)
            solid = int(np.ceil(proc.min_width / pitch - 1e-9))
            void = int(np.ceil(proc.min_space / pitch - 1e-9))
    elif run_solid or run_void:
        solid, void = run_solid, run_void
    else:
        raise DesignValueError("no rule to check against: give --min-feature-cells, "
                               "--min-feature LENGTH or --process NAME")
    paths = write_drc(folder, binary, region, max(solid, 1), max(void, 1), pitch=pitch,
                      stem=stem)
    import json

    report = json.loads(paths["drc"].read_text())
    measured = (f"measured min solid {report['min_solid_cells']} / void "
                f"{report['min_void_cells']} cells (null: above {2 * max(solid, void, 1)})")
    verdict = "PASS" if report["pass"] else f"FAIL ({len(report['violations'])} violations)"
    print(f"DRC {verdict}: rule solid {max(solid, 1)} / void {max(void, 1)} cells; {measured}; "
          f"{report['islands']} islands, {report['enclosed_voids']} enclosed voids")
    for v in report["violations"][:20]:
        print(f"  {v['kind']:<15} at row {v['row']:.1f}, col {v['col']:.1f}: {v['cells']} cells, "
              f"size {v['size_cells']}")
    if len(report["violations"]) > 20:
        print(f"  … and {len(report['violations']) - 20} more (see {paths['drc']})")
    print(f"wrote {paths['drc']} and {paths['drc_png']}")
    return 0 if report["pass"] else 1


def _layer(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    from wavefab.designkit.errors import DesignValueError

    parts = text.replace(":", "/").split("/")
    try:
        values = tuple(int(v) for v in parts)
    except ValueError:
        values = ()
    if len(values) not in (1, 2) or not all(0 <= v < 65536 for v in values):
        raise DesignValueError(f"--layer must be LAYER or LAYER/DATATYPE (0-65535), got {text!r}")
    return (values[0], values[1] if len(values) == 2 else 0)


def _length(text: str | None, flag: str) -> float | None:
    from wavefab.designkit.processes import parse_length

    return None if text is None else parse_length(text, flag)


def _cmd_export(args: argparse.Namespace) -> int:
    import json

    from wavefab.designkit.errors import DesignValueError
    from wavefab.designkit.export import ExportSettings, export_design, load_design
    from wavefab.designkit.processes import format_length

    outputs = [getattr(args, kind) for kind in ("gds", "oas", "stl", "3mf", "obj", "dxf", "svg")
               if getattr(args, kind) is not None]
    outputs = [p for group in outputs for p in group]
    if not outputs and args.png is None:
        raise DesignValueError("nothing to export: give at least one of --gds, --oas, --stl, "
                               "--3mf, --obj, --dxf, --svg, --png with a file name")
    settings = ExportSettings(
        pitch=_length(args.pitch, "--pitch"), process=args.process,
        process_file=args.process_file, mode=args.mode,
        tolerance=_length(args.tolerance, "--tolerance"), tone=args.tone,
        layer=_layer(args.layer), frame=_length(args.frame, "--frame") or 0.0,
        height=_length(args.height, "--height"),
        base=_length(args.base, "--base") or 0.0, label=not args.no_label, name=args.name,
        allow_violations=args.allow_violations, lid=_length(args.lid, "--lid") or 0.0)
    design = load_design(args.result)
    if args.ports is not None:
        from dataclasses import replace

        from wavefab.designkit.export import port_openings

        settings = replace(settings, openings=port_openings(
            args.result, _length(args.ports, "--ports"), settings.pitch or design.pitch))
    report = export_design(design, outputs, settings) if outputs else None
    if args.png is not None:
        from wavefab.designkit.export import preview_png

        print(f"wrote {preview_png(design, args.png, settings)}")
    if report is None:
        return 0
    rows, cols = design.shape
    print(f"{report.name}: {rows}x{cols} cells at pitch {format_length(report.pitch_m)} = "
          f"{format_length(report.size_m[0])} x {format_length(report.size_m[1])}, "
          f"{report.mode} outlines, {report.polygons['polygons']} polygons, "
          f"{report.polygons['holes']} holes"
          + (f", process {report.process}" if report.process else ""))
    drc = report.drc
    verdict = "PASS" if drc["pass"] else f"FAIL ({len(drc['violations'])} violations)"
    print(f"DRC {verdict}: rule solid {drc['rule_solid_cells']} / void {drc['rule_void_cells']} "
          f"cells; measured min solid {drc['min_solid_cells']} / void {drc['min_void_cells']}")
    for path, info in report.files.items():
        extra = ""
        if "volume_mm3" in info:
            extra = (f" (volume {info['volume_mm3']:.1f} mm3, "
                     f"{'watertight' if info['watertight'] else 'NOT watertight'})")
            plates = report.plates or {}
            if "two_dimensional" in plates:
                extra += (f"; plate gap {format_length(plates['gap_m'])} "
                          f"{'<' if plates['two_dimensional'] else '>='} half the shortest "
                          f"wavelength {format_length(plates['half_shortest_wavelength_m'])}"
                          + ("" if plates["two_dimensional"] else
                             " — NOT a 2D waveguide: lower --height"))
                if plates.get("two_dimensional_over_band") is False:
                    extra += (f"; the inputs reach {plates['band_top_hz']:.4g} Hz, above the "
                              f"cut-on: --height ≤ "
                              f"{format_length(plates['max_gap_for_band_m'])} for the whole band")
        elif "polygons" in info:
            extra = f" ({info['polygons']} polygons, max {info['max_vertices']} vertices)"
        print(f"wrote {path}{extra}")
    if (report.plates or {}).get("absorber_m"):
        print(f"edges: the outer {format_length(report.plates['absorber_m'])} all round was the "
              "simulation's absorbing layer: line it with absorber (e.g. porous foam between "
              "the plates), or the open edges reflect")
    if args.report is not None:
        from wavefab.designkit.files import write_atomically

        write_atomically(args.report, json.dumps(report.to_dict(), indent=1).encode())
        print(f"wrote {args.report}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    import json

    from wavefab.designkit.verify import describe, verify

    result = verify(args.result, args.file, data_dir=args.data,
                    pitch=_length(args.pitch, "--pitch"), layer=_layer(args.layer),
                    section_z=_length(args.section_z, "--section-z"), physics=args.physics,
                    refine=args.refine)
    print(describe(result))
    if args.report is not None:
        from wavefab.designkit.files import write_atomically

        write_atomically(args.report, json.dumps(result.to_dict(), indent=1).encode())
        print(f"wrote {args.report}")
    return 0


def _cmd_scale(args: argparse.Namespace) -> int:
    import json

    from wavefab.designkit.config import load_config
    from wavefab.designkit.processes import parse_length
    from wavefab.designkit.scale import describe_scale, scale_of

    config = load_config(args.config, args.set or [])
    frequency = None
    if args.frequency is not None:
        text = args.frequency.strip().lower()
        factor = {"khz": 1e3, "mhz": 1e6, "hz": 1.0}
        unit = next((u for u in factor if text.endswith(u)), "hz")
        try:
            frequency = float(text[: len(text) - len(unit)] if text.endswith(unit) else text) \
                * factor[unit]
        except ValueError:
            raise SystemExit(f"--frequency {args.frequency!r}: give a number with Hz, kHz or "
                             "MHz, e.g. 20kHz") from None
    report = scale_of(config, pitch=parse_length(args.pitch, "--pitch") if args.pitch else None,
                      frequency=frequency, process=args.process, wave_speed=args.wave_speed,
                      data_dir=args.data)
    print(describe_scale(report))
    if args.report:
        from wavefab.designkit.files import write_atomically

        write_atomically(args.report, json.dumps(report, indent=1).encode())
    return 0


def _cmd_gui(args: argparse.Namespace) -> int:
    from wavefab.app.gui import launch

    return launch(args.project, screenshot=args.screenshot, demo=args.demo)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``wavefab`` command."""
    parser = argparse.ArgumentParser(
        prog="wavefab",
        description="Train wave media that compute, then fabricate them.",
    )
    parser.add_argument("--version", action="version", version=f"wavefab {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="optimize a printable lens, check it, write GDS, STL and "
                          "previews")
    demo.add_argument("--out", type=Path, default=Path("wavefab-demo"),
                      help="output folder (default: %(default)s)")
    demo.add_argument("--epochs", type=int, help="fewer epochs than the built-in 14 (quick look)")
    demo.set_defaults(func=_cmd_demo)


    runp = sub.add_parser("run", help="train a design from a YAML configuration")
    runp.add_argument("config", type=Path, help="YAML run configuration (see assets/examples)")
    runp.add_argument("--data", help="folder of [m|w]NN<vowel>.wav recordings (default: the "
                      "config's, else built-in synthetic vowels)")
    runp.add_argument("--out", help="results folder (default: results/<config name>)")
    runp.add_argument("--resume", action="store_true",
                      help="continue a killed run from its checkpoint in the results folder")
    runp.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    runp.add_argument("--threads", type=int, help="CPU threads (default: chosen per machine)")
    runp.add_argument("--set", action="append", metavar="KEY=VALUE",
                      help="override a config value by dotted path, e.g. training.seed=3")
    runp.set_defaults(func=_cmd_run)

    drcp = sub.add_parser("drc", help="design-rule check of a results folder or an exported file "
                          "(exit 1 on failure)")
    drcp.add_argument("result", type=Path, metavar="FILE_OR_RESULT",
                      help="results folder of `wavefab run`, or a GDS/OASIS/STL/3MF/OBJ/DXF file")
    drcp.add_argument("--layer", help="layout LAYER/DATATYPE (default: the one the file names)")
    drcp.add_argument("--min-feature-cells", type=int, help="rule in cells (default: the run's)")
    drcp.add_argument("--min-feature", help="rule as a length, e.g. 0.8mm (needs --pitch)")
    drcp.add_argument("--process", help="take the rules of a process preset (needs --pitch)")
    drcp.add_argument("--pitch", help="physical size of one cell, e.g. 50nm (files: the cell "
                      "size to rasterize at; default: the one the file records)")
    drcp.set_defaults(func=_cmd_drc)

    exp = sub.add_parser("export", help="write masks, meshes and outlines of a results folder")
    exp.add_argument("result", type=Path, help="results folder of `wavefab run`")
    for kind, what in (("gds", "GDSII mask"), ("oas", "OASIS mask"), ("stl", "binary STL mesh"),
                       ("3mf", "3MF mesh"), ("obj", "OBJ mesh"), ("dxf", "DXF outline"),
                       ("svg", "SVG outline")):
        exp.add_argument(f"--{kind}", dest=kind, action="append", type=Path, metavar="PATH",
                         help=f"write a {what}")
    exp.add_argument("--process", help="process preset for rules, grid and layer (default: the "
                     "run's)")
    exp.add_argument("--process-file", type=Path, help="YAML file of your own process presets")
    exp.add_argument("--pitch", help="physical size of one cell, e.g. 50nm or 0.2mm (default: "
                     "the run's)")
    exp.add_argument("--height", help="extrusion height of meshes, e.g. 2mm")
    exp.add_argument("--base", help="base-plate thickness of meshes, e.g. 1mm (default: none)")
    exp.add_argument("--frame", help="masks and meshes: frame width around the design, e.g. 1mm "
                     "(default: none)")
    exp.add_argument("--lid", help="meshes: a top plate of this thickness (with --base: a "
                     "parallel-plate part, its gap checked against the band), e.g. 1mm")
    exp.add_argument("--ports", metavar="DIAMETER", help="meshes with --lid: holes of this "
                     "diameter through the lid over every source and probe (speaker and "
                     "microphones), e.g. 3mm")
    exp.add_argument("--mode", choices=["exact", "smooth"], default="exact",
                     help="exact: cell outlines (re-rasterize identically); smooth: the contour "
                     "of the filtered density (default: %(default)s)")
    exp.add_argument("--tolerance", help="simplification tolerance of smooth outlines "
                     "(default: the process grid)")
    exp.add_argument("--tone", choices=["solid", "void"], default="solid",
                     help="masks: draw the solid or the void regions (default: %(default)s)")
    exp.add_argument("--layer", help="masks: LAYER/DATATYPE (default: the process's)")
    exp.add_argument("--name", help="design name (top cell, label; default: the folder's name)")
    exp.add_argument("--no-label", action="store_true", help="masks: no text label")
    exp.add_argument("--png", type=Path, metavar="PATH",
                     help="write a picture of the outline (physical units)")
    exp.add_argument("--allow-violations", action="store_true",
                     help="write the files of a design that fails its design rules")
    exp.add_argument("--report", type=Path, help="also write the export report as JSON")
    exp.set_defaults(func=_cmd_export)

    ver = sub.add_parser("verify", help="re-simulate an exported file and compare with the design")
    ver.add_argument("result", type=Path, help="results folder of `wavefab run`")
    ver.add_argument("file", type=Path, help="GDS, OASIS, STL, 3MF, OBJ or DXF file")
    ver.add_argument("--data", help="recordings folder (vowel problems; default: the run's)")
    ver.add_argument("--pitch", help="cell size the file was exported at (default: the run's, "
                     "else the one the file records)")
    ver.add_argument("--layer", help="layout LAYER/DATATYPE (default: the one the file names)")
    ver.add_argument("--section-z", help="meshes: height of the cut above the lowest point "
                     "(default: just below the top)")
    ver.add_argument("--physics", choices=["scalar", "acoustic"],
                     help="re-simulate in this wave model instead of the run's (e.g. a "
                     "speed-only design as a printed rigid part)")
    ver.add_argument("--refine", type=int, default=1, metavar="K",
                     help="simulate on a grid K times finer in space and time (K³ the cost): "
                     "do the figures hold with less numerical dispersion?")
    ver.add_argument("--report", type=Path, help="also write the comparison as JSON")
    ver.set_defaults(func=_cmd_verify)

    scl = sub.add_parser("scale", help="physical size, band and playback speed of a design at "
                         "a pitch, or the pitch that serves a band")
    scl.add_argument("config", type=Path, help="run configuration YAML (or a results folder's)")
    choice = scl.add_mutually_exclusive_group()
    choice.add_argument("--pitch", help="cell size, e.g. 0.5mm (default: fabrication.pitch)")
    choice.add_argument("--frequency", help="the highest frequency to serve, e.g. 20kHz: "
                        "picks the pitch with 10 cells per wavelength")
    scl.add_argument("--process", help="process preset whose rules and medium apply")
    scl.add_argument("--wave-speed", type=float, help="the medium's speed in m/s (air: 343)")
    scl.add_argument("--data", help="recordings folder (vowel problems)")
    scl.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting")
    scl.add_argument("--report", type=Path, help="also write the report as JSON")
    scl.set_defaults(func=_cmd_scale)

    gui = sub.add_parser("gui", help="open the desktop designer")
    gui.add_argument("project", nargs="?", type=Path,
                     help="project folder, results folder of `wavefab run`, or config YAML")
    gui.add_argument("--screenshot", type=Path, metavar="PNG",
                     help="render the window to a PNG and quit")
    gui.add_argument("--demo", action="store_true",
                     help="open a finished demo project (runs `wavefab demo` unless PROJECT "
                     "is given)")
    gui.set_defaults(func=_cmd_gui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("wavefab: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # Imported here, not at the top, so that --help never loads torch.
        from wavefab.designkit.errors import DesignError
        from wavefab.solver.errors import SolverError, StabilityError

        if isinstance(exc, StabilityError):  # the run failed (or cannot run stably)
            print(f"wavefab {args.command}: run failed: {exc}", file=sys.stderr)
            return 1
        if isinstance(exc, (SolverError, DesignError, OSError)):
            print(f"wavefab {args.command}: error: {exc}", file=sys.stderr)
            return 2
        raise  # a bug: keep the traceback


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
