"""``wavefab export``: masks, meshes and outlines of a results folder, checked against its rules."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import layer, length, write_report

#: The file flags and what each writes.
KINDS = (("gds", "GDSII mask"), ("oas", "OASIS mask"), ("stl", "binary STL mesh"),
         ("3mf", "3MF mesh"), ("obj", "OBJ mesh"), ("dxf", "DXF outline"), ("svg", "SVG outline"))


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``export`` and its options to the subcommands."""
    parser = sub.add_parser("export", help="write masks, meshes and outlines of a results folder")
    parser.add_argument("result", type=Path, help="results folder of `wavefab run`")
    for kind, what in KINDS:
        parser.add_argument(f"--{kind}", dest=kind, action="append", type=Path, metavar="PATH",
                            help=f"write a {what}")
    parser.add_argument("--process", help="process preset for rules, grid and layer (default: "
                        "the run's)")
    parser.add_argument("--process-file", type=Path, help="YAML file of your own process presets")
    parser.add_argument("--pitch", help="physical size of one cell, e.g. 50nm or 0.2mm (default: "
                        "the run's)")
    parser.add_argument("--height", help="extrusion height of meshes, e.g. 2mm")
    parser.add_argument("--base", help="base-plate thickness of meshes, e.g. 1mm (default: none)")
    parser.add_argument("--frame", help="masks and meshes: frame width around the design, e.g. "
                        "1mm (default: none)")
    parser.add_argument("--lid", help="meshes: a top plate of this thickness (with --base: a "
                        "parallel-plate part, its gap checked against the band), e.g. 1mm")
    parser.add_argument("--ports", metavar="DIAMETER", help="meshes with --lid: holes of this "
                        "diameter through the lid over every source and probe (speaker and "
                        "microphones), e.g. 3mm")
    parser.add_argument("--mode", choices=["exact", "smooth"], default="exact",
                        help="exact: cell outlines (re-rasterize identically); smooth: the "
                        "contour of the filtered density (default: %(default)s)")
    parser.add_argument("--tolerance", help="simplification tolerance of smooth outlines "
                        "(default: the process grid)")
    parser.add_argument("--tone", choices=["solid", "void"], default="solid",
                        help="masks: draw the solid or the void regions (default: %(default)s)")
    parser.add_argument("--layer", help="masks: LAYER/DATATYPE (default: the process's)")
    parser.add_argument("--name", help="design name (top cell, label; default: the folder's "
                        "name)")
    parser.add_argument("--no-label", action="store_true", help="masks: no text label")
    parser.add_argument("--png", type=Path, metavar="PATH",
                        help="write a picture of the outline (physical units)")
    parser.add_argument("--allow-violations", action="store_true",
                        help="write the files of a design that fails its design rules")
    parser.add_argument("--report", type=Path, help="also write the export report as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    """Export every requested file (and a preview); print what was written and measured."""
    from dataclasses import replace

    from wavefab.designkit.errors import DesignValueError
    from wavefab.designkit.export import (
        ExportSettings,
        describe_export,
        export_design,
        load_design,
        port_openings,
        preview_png,
    )

    outputs = [path for kind, _ in KINDS for path in (getattr(args, kind) or [])]
    if not outputs and args.png is None:
        raise DesignValueError("nothing to export: give at least one of --gds, --oas, --stl, "
                               "--3mf, --obj, --dxf, --svg, --png with a file name")
    settings = ExportSettings(
        pitch=length(args.pitch, "--pitch"), process=args.process,
        process_file=args.process_file, mode=args.mode,
        tolerance=length(args.tolerance, "--tolerance"), tone=args.tone,
        layer=layer(args.layer), frame=length(args.frame, "--frame") or 0.0,
        height=length(args.height, "--height"),
        base=length(args.base, "--base") or 0.0, label=not args.no_label, name=args.name,
        allow_violations=args.allow_violations, lid=length(args.lid, "--lid") or 0.0)
    design = load_design(args.result)
    if args.ports is not None:
        settings = replace(settings, openings=port_openings(
            design.ports, design.shape[0], length(args.ports, "--ports"),
            settings.pitch or design.pitch))
    report = export_design(design, outputs, settings) if outputs else None
    if args.png is not None:
        print(f"wrote {preview_png(design, args.png, settings)}")
    if report is None:
        return 0
    print(describe_export(report))
    if write_report(args.report, report.to_dict()):
        print(f"wrote {args.report}")
    return 0
