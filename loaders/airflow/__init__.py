"""Apache Airflow 3 integration: an operator, a DAG factory for marts files, assets, a connection type.

Needs ``apache-airflow>=3`` (``pip install 'loaders[airflow]'``).
"""

from loaders.airflow.factory import dags_from_folder, dags_from_marts
from loaders.airflow.operators import MartLoadOperator, mart_asset

__all__ = ["MartLoadOperator", "dags_from_folder", "dags_from_marts", "mart_asset"]
