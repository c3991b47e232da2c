"""Deployment manifests: every overlay builds, validates against the Kubernetes schemas offline,
and keeps the invariants the platform depends on; compose.yaml stays consistent."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from gateway.settings import GatewaySettings
from kit.bus.kafka import contract_topics
from kit.cli import load_spec
from kit.events import dlq_topic
from kit.settings import RuntimeSettings

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
SERVICES = {"candidates": 8101, "vacancies": 8102, "matching": 8103, "notifications": 8104, "insights": 8105}
K8S_VERSION = "1.31.0"
CRDS = {"kafka.strimzi.io/v1beta2", "postgresql.cnpg.io/v1"}


@cache
def build(overlay: str) -> list[dict]:
    out = subprocess.run([REPO / "deploy/local/kustomize.sh", "build", REPO / "k8s/overlays" / overlay],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def containers(doc: dict) -> list[dict]:
    spec = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]["template"]["spec"]
    return spec["containers"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_resources_validate_against_the_kubernetes_schemas(overlay: str) -> None:
    docs = build(overlay)
    core = [d for d in docs if d["apiVersion"] not in CRDS]
    assert len(core) > 40
    for doc in core:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    assert {d["metadata"]["namespace"] for d in docs} == {"joblink-dev" if overlay == "dev" else "joblink"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_operator_resources_have_what_their_crds_require(overlay: str) -> None:
    """Strimzi and CloudNativePG CRD schemas are not available offline: the fields their CRDs
    mark required, and the ones the platform relies on, are checked instead."""
    docs = build(overlay)
    [kafka] = of_kind(docs, "Kafka")
    assert kafka["spec"]["kafka"]["listeners"] and kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    [pool] = of_kind(docs, "KafkaNodePool")
    assert pool["spec"]["replicas"] >= 1 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["spec"]["storage"]["type"] and pool["metadata"]["labels"]["strimzi.io/cluster"] == "joblink"
    for topic in of_kind(docs, "KafkaTopic"):
        assert topic["spec"]["partitions"] >= 1 and topic["spec"]["replicas"] >= 1
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "joblink"
    clusters = of_kind(docs, "Cluster")
    assert {c["metadata"]["name"] for c in clusters} == {f"postgres-{s}" for s in (*SERVICES, "gateway")}
    for cluster in clusters:
        assert cluster["spec"]["instances"] >= 1 and cluster["spec"]["storage"]["size"]
        assert cluster["spec"]["bootstrap"]["initdb"]["database"] == "joblink_" + cluster["metadata"]["name"][9:]
    durable = 3 if overlay == "prod" else 1
    assert pool["spec"]["replicas"] == durable
    assert kafka["spec"]["kafka"]["config"]["default.replication.factor"] == durable
    assert all(t["spec"]["replicas"] == durable for t in of_kind(docs, "KafkaTopic"))
    if overlay == "prod":
        assert kafka["spec"]["kafka"]["config"]["min.insync.replicas"] == 2
        assert all(t["spec"]["config"]["min.insync.replicas"] == 2 for t in of_kind(docs, "KafkaTopic"))
        assert all(c["spec"]["instances"] == 3 for c in clusters)


def test_topics_are_exactly_the_ones_the_code_uses() -> None:
    for overlay in OVERLAYS:
        names = {t["spec"]["topicName"] for t in of_kind(build(overlay), "KafkaTopic")}
        assert names == {*contract_topics(), *(dlq_topic(t) for t in contract_topics())}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_probes_limits_a_pdb_a_network_policy_and_a_migration(overlay: str) -> None:
    docs = build(overlay)
    deployments = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    pdbs = of_kind(docs, "PodDisruptionBudget")
    policies = {p["metadata"]["name"]: p for p in of_kind(docs, "NetworkPolicy")}
    jobs = {j["metadata"]["name"] for j in of_kind(docs, "Job")}
    for name, port in {**SERVICES, "gateway": 8000}.items():
        names = ["gateway"] if name == "gateway" else [f"{name}-api", f"{name}-worker"]
        for deployment_name in names:
            deployment = deployments[deployment_name]
            [container] = containers(deployment)
            assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["resources"]["limits"]["cpu"] and container["resources"]["limits"]["memory"]
            assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
            assert container["ports"][0]["containerPort"] == port and str(port) in container["args"]
            assert container["securityContext"]["runAsNonRoot"] and not container["securityContext"]["allowPrivilegeEscalation"]
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            assert any(all(labels.get(k) == v for k, v in p["spec"]["selector"]["matchLabels"].items()) for p in pdbs), \
                f"no PodDisruptionBudget covers {deployment_name}"
        assert policies[name]["spec"]["policyTypes"] == ["Ingress", "Egress"]
        assert f"{name}-migrate" in jobs
    # only the gateway may reach the services' APIs
    for name, port in SERVICES.items():
        [rule] = policies[name]["spec"]["ingress"]
        assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}]
        assert rule["ports"] == [{"port": port, "protocol": "TCP"}]
        egress = [peer for rule in policies[name]["spec"]["egress"] for peer in rule["to"]]
        assert {"podSelector": {"matchLabels": {"cnpg.io/cluster": f"postgres-{name}"}}} in egress
    assert "default-deny" in policies
    # each database accepts its own service only (its instances and the operator aside)
    for name in (*SERVICES, "gateway"):
        ingress = policies[f"postgres-{name}"]["spec"]["ingress"]
        assert ingress[0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}]
    assert of_kind(docs, "CronJob")[0]["spec"]["schedule"] and of_kind(docs, "Ingress")


def test_environment_variables_are_settings_the_code_reads() -> None:
    """Every JOBLINK_* variable the manifests set is a field of a settings class (so a typo or a
    renamed setting fails here, not silently in a cluster)."""
    known = {f"JOBLINK_{name.upper()}" for name in RuntimeSettings.model_fields}
    known |= {"JOBLINK_VAR"}
    for service in SERVICES:
        spec = load_spec(service)
        known |= {f"JOBLINK_{service.upper()}_{name.upper()}" for name in spec.settings_class.model_fields}
    known |= {f"JOBLINK_GATEWAY_{name.upper()}" for name in GatewaySettings.model_fields}
    known |= {f"JOBLINK_GATEWAY_SERVICE_URLS__{s.upper()}" for s in SERVICES}
    known |= {"JOBLINK_ADMIN_CLIENT_ID", "JOBLINK_ADMIN_CLIENT_SECRET"}
    for overlay in OVERLAYS:
        docs = build(overlay)
        used = {k for cm in of_kind(docs, "ConfigMap") for k in cm["data"] if k.startswith("JOBLINK_")}
        for doc in docs:
            if doc["kind"] in ("Deployment", "Job", "CronJob"):
                used |= {e["name"] for c in containers(doc) for e in c.get("env", []) if e["name"].startswith("JOBLINK_")}
        assert used and used <= known, sorted(used - known)


def test_service_urls_of_the_gateway_match_the_services() -> None:
    docs = build("prod")
    [config] = [c for c in of_kind(docs, "ConfigMap") if c["metadata"]["name"] == "gateway-config"]
    services = {s["metadata"]["name"]: s["spec"]["ports"][0]["port"] for s in of_kind(docs, "Service")}
    for name, port in SERVICES.items():
        assert config["data"][f"JOBLINK_GATEWAY_SERVICE_URLS__{name.upper()}"] == f"http://{name}:{port}"
        assert services[name] == port


def test_compose_file_references_only_what_it_defines() -> None:
    compose = yaml.safe_load((REPO / "deploy/local/compose.yaml").read_text())
    services = compose["services"]
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    apps = {n for n, s in services.items() if str(s.get("image", "")).startswith("joblink-app")}
    built = {str(s["image"]) for s in services.values() if "build" in s}
    assert {str(services[n]["image"]) for n in apps} <= built | {"joblink-app:local"}
    assert {"postgres", "kafka"} <= set(services)
