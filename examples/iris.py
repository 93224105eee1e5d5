"""Train the iris example with ngspice in the loop: python examples/iris.py [RUN_DIR]

Run it again with the same folder to resume an interrupted run."""

from _common import run_example

if __name__ == "__main__":
    run_example("iris")
