"""Command-line interface: ``eqprop-analog train | compile | gradcheck | verify | sweep |
sweep-plot | export | evaluate | report``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from eqprop_analog.cli_flags import (
    Parser,
    add_option_flags,
    count,
    folder_argument,
    given_options,
    numbers,
    option_names,
    path_argument,
    positive,
    report_error,
)
from eqprop_analog.cli_handoff import HANDOFF_COMMANDS, add_handoff_commands
from eqprop_analog.errors import ConfigError, EqpropError, SolverError
from eqprop_analog.threads import limit_threads

STATEMENTS = ("gdu", "rbp", "bias", "cep", "asymmetry")  # eqprop_analog.theory.<statement>
# the options only ngspice reads: given where no ngspice runs, they would change nothing
NGSPICE_OPTIONS = ("spice_timeout", "spice_workers", "matrix_solver", "input_crossbar")


# The run options each command takes as flags (compile and gradcheck take --layers for hidden).
def train_options() -> tuple[str, ...]:
    return option_names("circuit", "training", "engine", "device")


def compile_options() -> tuple[str, ...]:
    return option_names("circuit", but=("hidden",)) + ("seed",)


def gradcheck_options() -> tuple[str, ...]:
    return option_names("circuit", but=("hidden",)) + (
        "engine", *NGSPICE_OPTIONS, "beta", "estimator", "nudging", "seed")


def verify_options() -> tuple[str, ...]:
    return option_names("circuit", but=("hidden",)) + (*NGSPICE_OPTIONS, "nudging", "seed")


def ngspice_flags(given: dict) -> tuple[str, ...]:
    """The flags of ngspice's own options among the options ``given`` on the command line."""
    from eqprop_analog.config import OPTIONS

    return tuple(OPTIONS[name].flag for name in NGSPICE_OPTIONS if name in given)


def refuse_ngspice_flags(flags: tuple[str, ...], runs: str) -> None:
    """Refuse ngspice's flags where no ngspice runs: ``runs`` says what runs instead."""
    if flags:
        raise ConfigError(f"{runs} runs no ngspice, so {', '.join(flags)} would change nothing; "
                          "drop it")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="eqprop-analog", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a network with EP, the circuit solved by an engine")
    train.add_argument("--config", type=path_argument,
                       help="TOML file of options (tables circuit, training, engine, device)")
    train.add_argument("--out", type=folder_argument, help="run folder (default runs/<dataset>-<time>)")
    train.add_argument("--resume", type=folder_argument,
                       help="continue the run in this folder from its checkpoint")
    train.add_argument("--json", action="store_true", help="end with one JSON line of results")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_option_flags(train, train_options())

    comp = sub.add_parser("compile", help="write the netlist of a network and its weight map")
    comp.add_argument("--layers", required=True, help="layer sizes, e.g. 64,32,10")
    comp.add_argument("-o", "--output", type=path_argument, required=True, help="netlist file (.cir)")
    comp.add_argument("--config", type=path_argument,
                      help="TOML file whose [circuit] table gives the options")
    add_option_flags(comp, compile_options())

    grad = sub.add_parser("gradcheck", help="EP estimate against finite differences through the "
                          "engine or the implicit (adjoint) gradient")
    grad.add_argument("--layers", default="4,6,3")
    grad.add_argument("--batch", type=count(10_000), default=4, help="samples in the checked batch")
    grad.add_argument("--reference", choices=("finite-differences", "implicit"),
                      default="finite-differences", help="the gradient EP is compared with")
    grad.add_argument("--sweep", action="store_true",
                      help="also tabulate the error of one-sided and symmetric EP over beta")
    grad.add_argument("--plot", type=path_argument,
                      help="with --sweep: write the log-log plot of error against beta")
    grad.add_argument("--json", action="store_true")
    add_option_flags(grad, gradcheck_options())

    verify = sub.add_parser("verify", help="check a statement of the seed theory on a circuit; "
                            "writes figures and verify.json")
    verify.add_argument("statement", choices=STATEMENTS, help="gdu: discrete-time EP = BPTT; "
                        "rbp: EP = recurrent backprop in continuous time (ngspice transient); "
                        "bias: estimator bias against beta and in training; cep: continual EP; "
                        "asymmetry: EP with non-reciprocal amplifiers")
    verify.add_argument("--config", type=path_argument,
                        help="TOML file whose [circuit] table gives the circuit")
    verify.add_argument("--layers", default="4,8,8,3", help="the circuit's layer sizes")
    verify.add_argument("--engine", choices=("ngspice", "native"),
                        help="run on this engine only (default: every engine the statement runs "
                        "on: gdu and cep native, asymmetry ngspice, rbp and bias both)")
    verify.add_argument("--beta", type=positive, help="nudging strength in S (default: the "
                        "statement's own)")
    verify.add_argument("--out", type=folder_argument,
                        help="folder for the figures and verify.json (default verify-<statement>)")
    verify.add_argument("--quick", action="store_true", help="smaller sweeps: seconds, not "
                        "minutes (the test suite's size)")
    verify.add_argument("--json", action="store_true", help="end with one JSON line of results")
    add_option_flags(verify, verify_options())

    sweep = sub.add_parser("sweep", help="many runs over a grid or random draws of options, on "
                           "Dask workers; resumes where a killed sweep stopped")
    sweep.add_argument("file", type=path_argument,
                       help="sweep file (TOML: [sweep], [fixed], [grid] or [random])")
    sweep.add_argument("--workers", type=count(256), default=2,
                       help="worker processes of the local cluster (default 2)")
    sweep.add_argument("--scheduler", help="address of a running Dask scheduler to use instead")
    sweep.add_argument("--out", type=folder_argument,
                       help="results folder (default: beside the file, <name>-results)")
    sweep.add_argument("--retry-failed", action="store_true",
                       help="run the runs recorded as failed again (after their cause is fixed)")

    plot = sub.add_parser("sweep-plot", help="accuracy against each swept option")
    plot.add_argument("results", type=path_argument, help="a sweep's results.csv")
    plot.add_argument("-o", "--output", type=path_argument, help="PNG file (default: beside the table)")
    plot.add_argument("--metric", default="test_accuracy",
                      help="the column to plot (default test_accuracy): a metric, or a cost such "
                           "as static_power_w or training_energy_j")

    add_handoff_commands(sub)
    return parser


def _base_config(args):
    from eqprop_analog.config import RunConfig
    from eqprop_analog.config_files import load_config

    return load_config(args.config) if args.config else RunConfig()


# -- train ------------------------------------------------------------------------------------------
def cmd_train(args) -> int:
    from eqprop_analog.config_files import apply_overrides
    from eqprop_analog.learning.checkpoint import CHECKPOINT
    from eqprop_analog.run import resume_config, train

    overrides = given_options(args, train_options())
    if args.resume:
        if args.config:
            raise ConfigError("--resume takes the run's own config; drop --config")
        run_dir = Path(args.resume)
        config = resume_config(run_dir, overrides)
    else:
        config = apply_overrides(_base_config(args), overrides)
        run_dir = Path(args.out) if args.out else \
            Path("runs") / f"{Path(config.dataset).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
        if (run_dir / CHECKPOINT).exists():
            raise ConfigError(f"{run_dir} already holds a run; resume it with --resume {run_dir} "
                              "or choose another --out")
    if "ngspice" not in (config.engine, config.check_engine):
        refuse_ngspice_flags(ngspice_flags(overrides), f"training on {config.engine}")
    try:
        summary = train(config, run_dir, resume=bool(args.resume),
                        progress=False if args.no_progress else None)
    except EqpropError as exc:  # e.g. ngspice failing on too many mini-batches
        # resuming helps where the solver failed, not where the config or the data are wrong
        hint = isinstance(exc, SolverError) and (run_dir / CHECKPOINT).exists()
        report_error(str(exc) + (f"; finished epochs are saved: resume with --resume {run_dir}"
                                 if hint else ""))
        return 2
    except KeyboardInterrupt:
        if (run_dir / CHECKPOINT).exists():
            print(f"\ninterrupted; finished epochs are saved: resume with --resume {run_dir}",
                  file=sys.stderr)
        else:
            print("\ninterrupted before the first epoch ended; nothing to resume", file=sys.stderr)
        return 130
    print(f"test accuracy {100 * summary['test_accuracy']:.2f} %  results in {run_dir}")
    if args.json:
        print(json.dumps(summary))
    return 0


# -- compile ----------------------------------------------------------------------------------------
def cmd_compile(args) -> int:
    from eqprop_analog.circuit.layered import LayeredNetwork
    from eqprop_analog.circuit.size import check_fits
    from eqprop_analog.config_files import apply_overrides
    from eqprop_analog.spice.netlist import write_netlist

    layers = numbers(args.layers, int, "--layers")
    if len(layers) < 2:
        raise ConfigError("--layers needs at least inputs and outputs, e.g. 64,32,10")
    config = apply_overrides(_base_config(args), given_options(args, compile_options()))
    spec = config.spec_for(layers)
    check_fits(spec, "netlist")
    network = LayeredNetwork(spec)
    conductances = network.initial_conductances(np.random.default_rng(config.seed),
                                                config.init_low, config.init_high)
    path = Path(args.output)
    if path.is_dir():
        raise ConfigError(f"-o {path} is a folder; give the netlist's file name, e.g. {path}/net.cir")
    if not path.parent.is_dir():
        raise ConfigError(f"folder {path.parent} does not exist")
    t0 = time.perf_counter()
    netlist, weights = write_netlist(path, network, conductances,
                                     title=f"eqprop-analog {'-'.join(map(str, layers))}")
    print(f"wrote {netlist} and {weights} ({network.n_parameters} conductances, "
          f"{time.perf_counter() - t0:.1f} s)")
    return 0


# -- gradcheck --------------------------------------------------------------------------------------
def cmd_gradcheck(args) -> int:
    from eqprop_analog.circuit.layered import LayeredNetwork
    from eqprop_analog.circuit.size import check_fits
    from eqprop_analog.config import RunConfig
    from eqprop_analog.config_files import apply_overrides
    from eqprop_analog.engines import SquaredError
    from eqprop_analog.learning import gradcheck as gc
    from eqprop_analog.learning.estimators import EPEstimator

    layers = numbers(args.layers, int, "--layers")
    given = given_options(args, gradcheck_options())
    config = apply_overrides(RunConfig(), given)
    if config.engine != "ngspice":
        refuse_ngspice_flags(ngspice_flags(given), f"gradcheck --engine {config.engine}")
    if args.plot and not args.sweep:
        raise ConfigError("--plot draws the sweep over beta: add --sweep")
    if args.plot:
        from eqprop_analog.report.plots import figure_path

        figure_path(args.plot)  # refused now, not after the sweep
    spec = config.spec_for(layers)
    check_fits(spec, config.engine)
    network = LayeredNetwork(spec)
    rng = np.random.default_rng(config.seed)
    conductances = network.initial_conductances(rng, config.init_low, config.init_high)
    x = rng.uniform(0, 1, (args.batch, layers[0]))
    targets = rng.uniform(-0.2, 0.2, (args.batch, layers[-1]))
    estimator = EPEstimator(config.estimator, config.beta)
    cost = SquaredError()
    # tight tolerances: finite differences resolve loss changes of ~1e-9 relative
    engine = config.engine_for(precise=True)
    try:
        reference = gc.reference_gradient(args.reference, engine, network, conductances, x, cost,
                                          targets)
        estimate = gc.ep_gradient(engine, network, conductances, x, cost, targets, estimator,
                                  config.nudging, rng)
        sweep = None
        if args.sweep:
            betas = [config.beta * 2.0 ** k for k in range(3, -4, -1)]
            sweep = gc.bias_against_beta(engine, network, conductances, x, cost, targets,
                                         reference, betas, config.nudging)
    finally:
        engine.close()
    comparison = gc.Comparison.of(estimate, reference)
    result = {"layers": list(layers), "engine": config.engine, "estimator": config.estimator,
              "nudging": config.nudging, "beta": config.beta, "reference": args.reference,
              "cosine": comparison.cosine, "relative_error": comparison.relative_error,
              "per_layer": gc.per_layer(estimate, reference)}
    if sweep:
        result["bias_against_beta"] = sweep
        result["fitted_order"] = {k: gc.fitted_order(sweep, k) for k in ("one-sided", "symmetric")}
        if args.plot:
            from eqprop_analog.report.plots import plot_bias

            plot_bias(sweep, args.plot, f"{'-'.join(map(str, layers))}, {config.engine}, "
                                        f"reference: {args.reference}")
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{config.estimator} EP (beta {config.beta:g} S, {config.nudging} nudging) on "
          f"{'-'.join(map(str, layers))}, {config.engine} states, against {args.reference}: "
          f"cosine {comparison.cosine:.8f}, relative error {comparison.relative_error:.3e}")
    for row in result["per_layer"]:
        print(f"  crossbar {row['layer']}: cosine {row['cosine']:.8f}, "
              f"relative error {row['relative_error']:.3e}")
    if sweep:
        print("  beta (S)     one-sided    symmetric")
        for row in sweep:
            print(f"  {row['beta']:<11.3g}  {row['one-sided']:.3e}    {row['symmetric']:.3e}")
        orders = result["fitted_order"]
        print(f"  fitted order in beta: one-sided {orders['one-sided']:.2f}, "
              f"symmetric {orders['symmetric']:.2f}")
    return 0


# -- verify -----------------------------------------------------------------------------------------
def cmd_verify(args) -> int:
    import importlib

    from eqprop_analog.config_files import apply_overrides
    from eqprop_analog.theory.verify import VerifyRequest

    layers = numbers(args.layers, int, "--layers")
    out = Path(args.out or f"verify-{args.statement}")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder")
    # with --json, stdout ends with the JSON line: progress goes to stderr
    log = (lambda line: print(line, file=sys.stderr)) if args.json else print
    given = given_options(args, verify_options())
    config = apply_overrides(_base_config(args), given)
    request = VerifyRequest(config, layers, args.engine, args.beta, out, args.quick, log,
                            ngspice_flags(given))
    out.mkdir(parents=True, exist_ok=True)
    verdict = importlib.import_module(f"eqprop_analog.theory.{args.statement}").run(request)
    path = verdict.write(out)
    print("\n".join(verdict.table), file=sys.stderr if args.json else sys.stdout)
    print(f"wrote {path} and {len(verdict.figures)} figures in {out}",
          file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(verdict.plain()))
    return 0


# -- sweep ------------------------------------------------------------------------------------------
def cmd_sweep(args) -> int:
    from eqprop_analog.sweep.runner import run_sweep
    from eqprop_analog.sweep.spec import load_sweep

    spec = load_sweep(args.file)
    out = Path(args.out) if args.out else Path(args.file).with_name(f"{Path(args.file).stem}-results")
    table = run_sweep(spec, out, workers=args.workers, scheduler=args.scheduler,
                      retry_failed=args.retry_failed)
    failed = sum(row["status"] != "ok" for row in table.rows)
    print(f"{len(table.rows) - failed} runs succeeded, {failed} failed; results in {table.path}")
    if table.rows and failed == len(table.rows):
        report_error(f"every run of the sweep failed (see the error column of {table.path})")
        return 1
    return 0


def cmd_sweep_plot(args) -> int:
    from eqprop_analog.sweep.plot import plot_sweep

    out = args.output or str(Path(args.results).with_name("sweep.png"))
    print(f"wrote {plot_sweep(args.results, out, args.metric)}")
    return 0


COMMANDS = {"train": cmd_train, "compile": cmd_compile, "gradcheck": cmd_gradcheck,
            "verify": cmd_verify, "sweep": cmd_sweep, "sweep-plot": cmd_sweep_plot,
            **HANDOFF_COMMANDS}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        limit_threads()
        return COMMANDS[args.command](args)
    except EqpropError as exc:
        message = str(exc)
    except MemoryError:
        message = "out of memory: make the network or the batch smaller"
    except OSError as exc:  # unwritable output, a folder where a file was expected, ...
        message = f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    report_error(message)
    return 2


if __name__ == "__main__":
    sys.exit(main())
