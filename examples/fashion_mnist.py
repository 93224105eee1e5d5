"""Train 1568-100-10 on Fashion-MNIST with the native engine: python examples/fashion_mnist.py [RUN_DIR]

Needs Debian's dataset-fashion-mnist (scripts/bootstrap.sh installs it). Run it again with the same
folder to resume an interrupted run."""

from _common import run_example

if __name__ == "__main__":
    run_example("fashion-mnist")
