"""Reading the portal's Prometheus metrics as Prometheus would: scraped and parsed."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-" + "t" * 40


def scrape(client, token: str = TOKEN) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def value(text: str, name: str, **labels: str) -> float:
    """The sample ``name`` with ``labels`` (0 when it has not been counted yet)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0
