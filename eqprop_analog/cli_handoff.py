"""The hand-off commands of the command line: ``export`` (a run's folder for a hardware team),
``evaluate`` (a network as it stands: edited netlist, measured conductances) and ``report`` (a
run's HTML report)."""

from __future__ import annotations

import json

from eqprop_analog.cli_flags import count, folder_argument, path_argument, report_error

BENCH_TOLERANCE = 1e-6  # V: an exported bench in ngspice against the training engine


def add_handoff_commands(sub) -> None:
    """The parsers of ``export``, ``evaluate`` and ``report`` among the subcommands ``sub``."""
    export = sub.add_parser("export", help="a trained run's hand-off folder for a hardware team: "
                            "netlist, weight map, a test bench of test samples, their expected "
                            "outputs and a README")
    export.add_argument("run", type=path_argument,
                        help="the run's folder (its last checkpoint is exported)")
    export.add_argument("--out", type=folder_argument, required=True, help="folder to write")
    export.add_argument("--dialect", default="ngspice", help="the simulator's dialect: ngspice "
                        "(the default), xyce or spectre (each also writes the ngspice files)")
    export.add_argument("--samples", type=count(10_000_000), default=100,
                        help="test samples in the bench (default 100)")
    export.add_argument("--no-check", action="store_true",
                        help="do not run the bench in ngspice at export")

    evaluate = sub.add_parser("evaluate", help="accuracy and cost of a trained network as it "
                              "stands: a run folder, the edited netlist of a run or export "
                              "folder, or measured conductances")
    evaluate.add_argument("path", type=path_argument,
                          help="a run folder, or the netlist of a run or export folder (beside its "
                               "config.toml)")
    evaluate.add_argument("--dataset", help="another dataset of the same features and classes")
    evaluate.add_argument("--conductances", type=path_argument,
                          help="CSV of element, conductance (S) that replaces the network's values")
    evaluate.add_argument("--samples", type=count(10_000_000),
                          help="the first N test samples (default all)")
    evaluate.add_argument("--engine", choices=("ngspice", "native"),
                          help="the engine (default the run's)")
    evaluate.add_argument("--outputs", type=path_argument,
                          help="CSV file for each sample's label, outputs and predicted class")
    evaluate.add_argument("--power", type=path_argument, metavar="FILE.csv",
                          help="CSV file for each sample's static power per element group, "
                               "supplied and imbalance (W)")
    evaluate.add_argument("--settling", type=count(10_000_000), default=0,
                          help="simulate the first N samples' inference in time in ngspice "
                          "(node_capacitance on every free node): settling time and energy")
    evaluate.add_argument("--json", action="store_true", help="end with one JSON line")

    report = sub.add_parser("report", help="a run's report as one self-contained HTML file "
                            "(training also writes it, as report.html in the run folder)")
    report.add_argument("run", type=path_argument, help="the run's folder")
    report.add_argument("-o", "--output", type=path_argument,
                        help="HTML file to write (default RUN/report.html)")


def cmd_export(args) -> int:
    from eqprop_analog.handoff.export import write_handoff

    handoff = write_handoff(args.run, args.out, dialect=args.dialect, samples=args.samples,
                            check=not args.no_check)
    print(f"wrote {', '.join(handoff.files)} in {handoff.folder} ({handoff.samples} test samples "
          "in the bench)")
    check = handoff.check
    if check is None:
        print(f"bench not run: {handoff.missing}")
        return 0
    print(f"{check.simulator}: bench.cir reproduces expected.csv within "
          f"{check.largest_difference:.2g} V, "
          + ("the same predicted classes" if check.same_classes else "OTHER predicted classes"))
    if check.largest_difference > BENCH_TOLERANCE or not check.same_classes:
        report_error(f"the bench's outputs in {check.simulator} differ from the training "
                     f"engine's by more than {BENCH_TOLERANCE:g} V or in a class; see "
                     f"{handoff.folder / 'README.txt'}")
        return 1
    return 0


def cmd_evaluate(args) -> int:
    from eqprop_analog.files import atomic_write_text
    from eqprop_analog.handoff.bench import output_names
    from eqprop_analog.handoff.evaluate import evaluate, power_csv
    from eqprop_analog.handoff.export import expected_csv

    result = evaluate(args.path, dataset=args.dataset, conductances=args.conductances,
                      samples=args.samples, engine=args.engine, settling=args.settling)
    print(f"{result.source}: test accuracy {100 * result.accuracy:.2f} % on {len(result.labels)} "
          f"samples of {result.dataset}, mean cost {result.loss:.4g} ({result.engine['engine']})")
    print(f"static power per inference {1e3 * result.supplied_power:.4g} mW (free state, nominal "
          "conductances)")
    if result.settling is not None:
        timed = result.settling
        print(f"settling to 1 % in {1e6 * timed['settling_time_s']['mean']:.4g} us on average "
              f"(at most {1e6 * timed['settling_time_s']['max']:.4g} us), "
              f"{1e9 * timed['energy_j']['mean']:.4g} nJ per inference, over {timed['samples']} "
              f"samples with {timed['node_capacitance_f']:g} F per node")
    if args.outputs:
        atomic_write_text(args.outputs, expected_csv(result.labels, result.outputs,
                                                     output_names(result.outputs.shape[1])))
    if args.power:
        atomic_write_text(args.power, power_csv(result))
    if args.json:
        print(json.dumps(result.summary()))
    return 0


def cmd_report(args) -> int:
    from eqprop_analog.run_report import current_profile, write_report

    evaluated = None
    # an older run, one stopped early or one resumed since its summary: its test set solved now
    if current_profile(args.run) is None:
        from eqprop_analog.handoff.evaluate import evaluate

        evaluation = evaluate(args.run)
        evaluated = {"inference": evaluation.inference, **evaluation.engine}
    print(f"report written to {write_report(args.run, args.output, evaluated)}")
    return 0


HANDOFF_COMMANDS = {"export": cmd_export, "evaluate": cmd_evaluate, "report": cmd_report}
