"""Provider metadata, so Airflow lists the operator and the "loaders" connection type.

Airflow reads this while it initialises its own configuration: it must import nothing heavy and
nothing from Airflow (which is why it lives outside ``loaders.airflow``).
"""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        current = version("loaders")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        current = "0.0.0"
    return {
        "package-name": "loaders",
        "name": "loaders",
        "description": "Load data marts with the right strategy (full, append, merge, SCD2, CDC).",
        "versions": [current],
        "operators": [{"integration-name": "loaders", "python-modules": ["loaders.airflow.operators"]}],
        "hooks": [{"integration-name": "loaders", "python-modules": ["loaders.airflow.hooks"]}],
        "integrations": [
            {
                "integration-name": "loaders",
                "external-doc-url": "https://pypi.org/project/loaders/",
                "tags": ["software"],
            }
        ],
        "connection-types": [{"connection-type": "loaders", "hook-class-name": "loaders.airflow.hooks.LoadersHook"}],
    }
