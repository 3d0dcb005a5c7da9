"""Every marts file in $LOADERS_MARTS_DIR (default: ./marts beside this file) becomes an Airflow DAG,
one task per mart in `depends_on` order. Copy this folder into your Airflow dags folder."""

import os
from pathlib import Path

from loaders.airflow import dags_from_folder

globals().update(dags_from_folder(os.environ.get("LOADERS_MARTS_DIR", Path(__file__).parent / "marts")))
