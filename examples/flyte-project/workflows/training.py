"""Train a model on the cleaned data and report on it."""
import pandas as pd
from flytekit import Resources, task, workflow

from workflows.etl import etl
from workflows.images import report_image, trainer_image


@task(container_image=trainer_image, requests=Resources(cpu="1", mem="1Gi"))
def train(df: pd.DataFrame) -> float:
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(df[["x"]], df["y"])
    return float(model.coef_[0])


@task(container_image=report_image)
def report(coef: float) -> str:
    return f"slope: {coef:.2f}"


@task(container_image=trainer_image.with_apt_packages("graphviz"))
def plot_tree(coef: float) -> str:
    return "tree"


@workflow
def training(n: int = 100) -> str:
    coef = train(df=etl(n=n))
    plot_tree(coef=coef)
    return report(coef=coef)
