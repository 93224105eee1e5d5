"""Train 784-100-10 on Fashion-MNIST with the native engine: python examples/fashion_mnist.py [RUN_DIR]

784 features, 100 hidden units, 10 outputs, as the tool prints it; each feature drives two rows of
the first crossbar (+A x and -A x), so that crossbar has 1568 input rows (and 2 bias rows).

Needs Debian's dataset-fashion-mnist (scripts/bootstrap.sh installs it). Run it again with the same
folder to resume an interrupted run."""

from _common import run_example

if __name__ == "__main__":
    run_example("fashion-mnist")
