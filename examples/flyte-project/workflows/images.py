"""The images of this project, in one place (the tasks import them)."""
import os

from flytekit import ImageSpec

REGISTRY = os.getenv("REGISTRY", "localhost:30000")
PYTHON_VERSION = "3.11"

# Everything the project's tasks share.
base_image = ImageSpec(
    name="flyte-example-base",
    registry=REGISTRY,
    python_version=PYTHON_VERSION,
    packages=["pandas==2.2.3", "pyarrow==17.0.0"],
    apt_packages=["git"],
    env={"PYTHONUNBUFFERED": "1"},
)

# Training adds scikit-learn on top of the shared packages.
trainer_image = base_image.with_packages(["scikit-learn==1.5.2", "joblib"])

# Reports are built FROM the base image (a nested spec: the base is built first).
report_image = ImageSpec(
    name="flyte-example-report",
    registry=REGISTRY,
    base_image=base_image,
    python_version=PYTHON_VERSION,
    packages=["matplotlib==3.9.2"],
)
