"""Extract and clean the raw data."""
import os

import pandas as pd
from flytekit import ImageSpec, task, workflow

etl_image = ImageSpec(
    name="flyte-example-etl",
    registry=os.getenv("REGISTRY", "localhost:30000"),
    python_version="3.11",
    requirements="requirements.txt",
    commands=["mkdir -p /root/data"],
)


@task(container_image=etl_image, cache=True, cache_version="1")
def extract(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": list(range(n)), "y": [i * 2 for i in range(n)]})


@task(container_image=etl_image)
def clean(df: pd.DataFrame) -> pd.DataFrame:
    return df.dropna()


@workflow
def etl(n: int = 100) -> pd.DataFrame:
    return clean(df=extract(n=n))
