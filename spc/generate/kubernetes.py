"""Builds SPC's Kubernetes objects from the code, for `deploy/k8s/` (kustomize): `spc generate`
writes them, tests/unit/test_generated.py fails when they are stale, and
tests/e2e/test_kubernetes.py renders every overlay and validates each object offline.

- `base/spc.yaml`: per service (spc/runtime/fleet.py) a Deployment, its Service, a migration Job, a
  PodDisruptionBudget, a HorizontalPodAutoscaler and a NetworkPolicy (its pods reach only the
  broker, their own database and DNS); the shared ConfigMap and ServiceAccount.
- `operators/rabbitmq.yaml`: a RabbitmqCluster (RabbitMQ Cluster Operator) and, for the Messaging
  Topology Operator, the vhost, exchanges, quorum queues, bindings, policies, users, permissions
  and topic permissions of deploy/rabbitmq/definitions.json (the same document, spc/generate/definitions.py).
- `operators/postgres.yaml`: one CloudNativePG Cluster per service, its database and owner, three
  instances with synchronous replication (quorum of one standby, durability required).
- `components/urgent-lanes/`: each service's urgent lanes in Deployments of their own
  (`urgent.yaml`), the services' own Deployments left the bulk lanes (`bulk.yaml`, a patch).

Secrets are referenced, never generated: `<user>-credentials` (username, password) for each
broker user, `spc-admin-tokens` (admin-tokens) for the staff tokens; CloudNativePG makes
`spc-<service>-db-app` (uri) and its cluster's CA `spc-<service>-db-ca` (ca.crt) itself: each
service reaches its database over TLS with `sslmode=verify-full` against that CA. The broker
speaks TLS only (AMQPS 5671, management 15671) with the certificate of the secret
`spc-rabbitmq-tls` (tls.crt, tls.key, ca.crt): in production, cert-manager's `Certificate` of
`overlays/production/tls.yaml` makes it; elsewhere, `spc certificates` and `kubectl create secret`
(docs/deploy.md, "TLS"). That file also has the Ingress that ends TLS for the staff's HTTP.
"""

import re

import yaml

from spc.runtime.fleet import SERVICE_NAMES, spec

from . import definitions

PART_OF = {"app.kubernetes.io/part-of": "spc"}
BROKER = "spc-rabbitmq"
# The RabbitMQ line of production (compose's default too): the one tests/deploy runs SPC on with
# every deprecated feature refused. docs/deploy.md, "RabbitMQ lines".
RABBITMQ_IMAGE = "rabbitmq:4.0-management"
RUN_AS = 10001  # the image's user (deploy/Dockerfile)
TOKENS_DIR = "/etc/spc/tokens"
SYNCHRONOUS = {"method": "any", "number": 1, "dataDurability": "required"}


# nosec B104: a pod listens on its own interfaces (the Service and the NetworkPolicies choose who reaches it)
POD_BIND = "0.0.0.0"  # nosec B104
# nosec B108: /tmp/spc is the pod's own emptyDir (the root filesystem is read-only), shared with nobody
POD_DATA_DIR = "/tmp/spc"  # nosec B108


def _labels(service, component):
    return {
        "app.kubernetes.io/name": f"spc-{service}",
        "app.kubernetes.io/instance": service,
        "app.kubernetes.io/component": component,
        **PART_OF,
    }


def _meta(name, labels=None):
    return {"name": name, "labels": labels or dict(PART_OF)}


def _pod_security():
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


DB_CA_DIR = "/etc/spc/db-ca"
BROKER_CA_DIR = "/etc/spc/amqp-ca"
BROKER_TLS = "spc-rabbitmq-tls"  # tls.crt, tls.key, ca.crt: what cert-manager writes
AMQPS = 5671


def _container(service, command, port=None, cpu_request="100m"):
    # TLS to PostgreSQL, verified: CloudNativePG's server certificate (it names the -rw service)
    # against its cluster's CA (secret spc-<service>-db-ca, mounted below); docs/deploy.md
    env = [
        {"name": "DB_URI", "valueFrom": {"secretKeyRef": {"name": f"spc-{service}-db-app", "key": "uri"}}},
        {"name": f"{service.upper()}_DATABASE_URL", "value": f"$(DB_URI)?sslmode=verify-full&sslrootcert={DB_CA_DIR}/ca.crt"},
    ]
    if port:
        env = [
            {"name": "AMQP_USER", "valueFrom": {"secretKeyRef": {"name": f"spc-{service}-credentials", "key": "username"}}},
            {"name": "AMQP_PASSWORD", "valueFrom": {"secretKeyRef": {"name": f"spc-{service}-credentials", "key": "password"}}},
            # AMQPS, the broker's certificate checked against the CA of its secret
            {"name": "AMQP_URI", "value": f"amqps://$(AMQP_USER):$(AMQP_PASSWORD)@{BROKER}:{AMQPS}/spc"},
            {"name": "SPC_AMQP_CA_FILE", "value": f"{BROKER_CA_DIR}/ca.crt"},
            *env,
            {"name": "SPC_ADMIN_TOKENS_FILE", "value": f"{TOKENS_DIR}/admin-tokens"},
            {"name": "SPC_MIGRATE", "value": "false"},  # the migration Job does it
            # traces (docs/operations.md, "Traces"): each span names its pod; the collector's
            # address and the sampling from the optional ConfigMap spc-otel (OTEL_EXPORTER_OTLP_ENDPOINT...)
            {"name": "K8S_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "K8S_NAMESPACE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {
                "name": "OTEL_RESOURCE_ATTRIBUTES",
                "value": "k8s.pod.name=$(K8S_POD_NAME),"
                "k8s.namespace.name=$(K8S_NAMESPACE_NAME),service.instance.id=$(K8S_POD_NAME)",
            },
        ]
    container = {
        "name": "spc",
        "image": "spc",
        "command": command,
        "env": env,
        "envFrom": [
            {"configMapRef": {"name": "spc-config"}},
            *([{"configMapRef": {"name": OTEL, "optional": True}}] if port else []),
        ],
        "resources": {"requests": {"cpu": cpu_request, "memory": "192Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [
            # nosec B108: /tmp is the pod's own emptyDir (the root filesystem is read-only), shared with nobody
            {"name": "tmp", "mountPath": "/tmp"},  # nosec B108
            {"name": "db-ca", "mountPath": DB_CA_DIR, "readOnly": True},
        ],
    }
    if port:
        container["ports"] = [{"name": "http", "containerPort": port}]
        container["readinessProbe"] = {
            "httpGet": {"path": "/health/ready", "port": "http"},
            "periodSeconds": 5,
            "failureThreshold": 3,
        }
        container["livenessProbe"] = {
            "httpGet": {"path": "/health/live", "port": "http"},
            "periodSeconds": 10,
            "failureThreshold": 6,
        }
        container["startupProbe"] = {
            "httpGet": {"path": "/health/live", "port": "http"},
            "periodSeconds": 2,
            "failureThreshold": 60,
        }
        container["volumeMounts"] += [
            {"name": "admin-tokens", "mountPath": TOKENS_DIR, "readOnly": True},
            {"name": "amqp-ca", "mountPath": BROKER_CA_DIR, "readOnly": True},
        ]
    return container


def _pod(service, container, tokens):
    volumes = [
        {"name": "tmp", "emptyDir": {}},
        {"name": "db-ca", "secret": {"secretName": f"spc-{service}-db-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
    ]
    if tokens:
        volumes += [
            {"name": "admin-tokens", "secret": {"secretName": "spc-admin-tokens"}},
            {"name": "amqp-ca", "secret": {"secretName": BROKER_TLS, "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        ]
    return {
        "serviceAccountName": "spc",
        "automountServiceAccountToken": False,
        "securityContext": _pod_security(),
        "containers": [container],
        "volumes": volumes,
    }


OTEL = "spc-otel"  # the OTEL_* settings, when the operator traces (optional)
OUTSIDE = "spc-registry-outside"  # the registry's settings for outside APIs (DS, the national registries)
DS_MAPPINGS_DIR = "/etc/spc/ds-mappings"
# HTTPS to public APIs (Démarches Simplifiées, API Recherche d'entreprises, API Entreprise): anywhere
# but the private ranges, where the cluster's own services are
PUBLIC_HTTPS = {
    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
    "ports": [{"protocol": "TCP", "port": 443}],
}
# the operator's SMTP relay (SPC_SMTP_URL: the reminders' e-mails), wherever it stands
SMTP_RELAY = {"ports": [{"protocol": "TCP", "port": port} for port in (25, 465, 587)]}
# an OpenTelemetry collector's OTLP/HTTP receiver (spc-otel: OTEL_EXPORTER_OTLP_ENDPOINT), wherever it stands
OTLP_COLLECTOR = {"ports": [{"protocol": "TCP", "port": 4318}]}


def _outside(container, pod):
    """The registry reads Démarches Simplifiées and asks the national registries when told to:
    its settings from the optional ConfigMap and Secret `spc-registry-outside` (SPC_IDENTITY_REGISTRY,
    SPC_DS_TOKEN, SPC_DS_WEBHOOK_SECRET, SPC_API_ENTREPRISE_TOKEN, SPC_SMTP_URL, SPC_SMTP_FROM...), the
    démarches' mapping files
    from the optional ConfigMap `spc-ds-mappings` (docs/integrating.md, docs/deploy.md)."""
    container["envFrom"] += [
        {"configMapRef": {"name": OUTSIDE, "optional": True}},
        {"secretRef": {"name": OUTSIDE, "optional": True}},
    ]
    container["env"].append({"name": "SPC_DS_MAPPINGS", "value": DS_MAPPINGS_DIR})
    container["volumeMounts"].append({"name": "ds-mappings", "mountPath": DS_MAPPINGS_DIR, "readOnly": True})
    pod["volumes"].append({"name": "ds-mappings", "configMap": {"name": "spc-ds-mappings", "optional": True}})


def service_objects(service):
    port, labels = spec(service).port, _labels(service, "service")
    selector = {"app.kubernetes.io/name": f"spc-{service}", "app.kubernetes.io/component": "service"}
    container = _container(service, ["spc", "run", service], port)
    pod = _pod(service, container, tokens=True)
    if service == "registry":
        _outside(container, pod)
    pod["terminationGracePeriodSeconds"] = 60  # SIGTERM: in-flight messages finish first
    migration = _labels(service, "migration")
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta(f"spc-{service}", labels),
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": selector},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {"metadata": {"labels": labels}, "spec": pod},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(f"spc-{service}", labels),
            "spec": {"selector": selector, "ports": [{"name": "http", "port": port, "targetPort": "http"}]},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": _meta(f"spc-{service}-migrate", migration),
            "spec": {
                "backoffLimit": 6,
                "ttlSecondsAfterFinished": 86400,
                "template": {
                    "metadata": {"labels": migration},
                    "spec": dict(
                        _pod(service, _container(service, ["spc", "migrate", service]), False), restartPolicy="OnFailure"
                    ),
                },
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta(f"spc-{service}", labels),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": selector}},
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": _meta(f"spc-{service}", labels),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"spc-{service}"},
                "minReplicas": 2,
                "maxReplicas": 6,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
                ],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(f"spc-{service}", labels),
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/instance": service, **PART_OF}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"protocol": "TCP", "port": port}]}],  # staff tools, Prometheus
                "egress": [
                    {
                        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": BROKER}}}],
                        "ports": [{"protocol": "TCP", "port": AMQPS}],
                    },
                    {
                        "to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": f"spc-{service}-db"}}}],
                        "ports": [{"protocol": "TCP", "port": 5432}],
                    },
                    {
                        "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    },
                    *([PUBLIC_HTTPS, SMTP_RELAY] if service == "registry" else []),
                    OTLP_COLLECTOR,
                ],
            },
        },
    ]


def base():
    shared = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("spc"), "automountServiceAccountToken": False},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("spc-config"),
            "data": {
                "SPC_BIND": POD_BIND,
                "SPC_DATA_DIR": POD_DATA_DIR,
                "SPC_MAX_WORKERS": "10",
                "SPC_URGENT_WORKERS": "4",
                "SPC_HEARTBEAT": "30",
                "SPC_UNKNOWN_SERVICE_WINDOW": "3600",
                "SPC_LOG_FORMAT": "json",  # one JSON object per log line: docs/operations.md
                # two people for money above this many cents (funding; README, Configuration)
                "SPC_DUAL_CONTROL_CENTS": "off",
                "SPC_DUAL_CONTROL_EXPIRY_SECONDS": "604800",
                # deadlines reminded (registry, funding, audit): how often to check, how many days ahead
                "SPC_REMINDER_SECONDS": "3600",
                "SPC_REMINDER_DAYS": "14",
            },
        },
    ]
    return shared + [obj for service in SERVICE_NAMES for obj in service_objects(service)]


# ---- the urgent lanes apart (a kustomize component) ------------------------------------------
URGENT_CPU = "500m"  # the urgent lanes' pods: five times the bulk pods' CPU weight (100m)


def urgent_lanes():
    """Per service a Deployment `spc-<service>-urgent` running `spc run <service> --lanes urgent`
    (violations, decisions, standings), and its PodDisruptionBudget. Its pods carry the service's
    instance label (its NetworkPolicy applies) but not the Service's component: staff requests
    go to the other pods. Its CPU request is five times the bulk pods' (URGENT_CPU): a container's
    request is also its CPU weight when a node's cores are all wanted, so there a violation's
    processes take the cores before the flood's (bench/README.md, figure `priority`).
    docs/deploy.md, "The urgent lanes apart"."""
    objects = []
    for service in SERVICE_NAMES:
        labels = _labels(service, "urgent-lanes")
        selector = {"app.kubernetes.io/name": f"spc-{service}", "app.kubernetes.io/component": "urgent-lanes"}
        command = ["spc", "run", service, "--lanes", "urgent"]
        pod = _pod(service, _container(service, command, spec(service).port, cpu_request=URGENT_CPU), tokens=True)
        pod["terminationGracePeriodSeconds"] = 60
        objects += [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": _meta(f"spc-{service}-urgent", labels),
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": selector},
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                    "template": {"metadata": {"labels": labels}, "spec": pod},
                },
            },
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": _meta(f"spc-{service}-urgent", labels),
                "spec": {"minAvailable": 1, "selector": {"matchLabels": selector}},
            },
        ]
    return objects


def bulk_lanes():
    """The patch that leaves the bulk lanes to the services' own Deployments (SPC_LANES=bulk)."""
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": f"spc-{service}"},
            "spec": {"template": {"spec": {"containers": [{"name": "spc", "env": [{"name": "SPC_LANES", "value": "bulk"}]}]}}},
        }
        for service in SERVICE_NAMES
    ]


# ---- the operators' objects ---------------------------------------------------------------
def _k8s_name(*parts):
    name = "-".join(re.sub(r"[^a-z0-9.-]+", "-", p.lower().replace("#", "all")).strip("-.") or "default" for p in parts)
    return name[:253]


def _topology_object(kind, name, spec_):
    return {
        "apiVersion": "rabbitmq.com/v1beta1",
        "kind": kind,
        "metadata": _meta(_k8s_name(name)),
        "spec": dict(spec_, rabbitmqClusterReference={"name": BROKER}),
    }


def rabbitmq():
    doc = definitions.document()
    out = [
        {
            "apiVersion": "rabbitmq.com/v1beta1",
            "kind": "RabbitmqCluster",
            "metadata": _meta(BROKER),
            "spec": {
                "replicas": 3,
                "image": RABBITMQ_IMAGE,
                "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
                "persistence": {"storage": "10Gi"},
                # TLS only: AMQPS 5671 and the management API on 15671 (the secret: module docstring)
                "tls": {"secretName": BROKER_TLS, "caSecretName": BROKER_TLS, "disableNonTLSListeners": True},
                "rabbitmq": {
                    "additionalPlugins": ["rabbitmq_prometheus", "rabbitmq_auth_mechanism_ssl"],
                    # the minority side of a partition pauses (docs/reliability.md); an
                    # outside publisher may log in by its client certificate (x509, its
                    # common name the broker user; the operator checks it against ca.crt)
                    "additionalConfig": "prometheus.return_per_object_metrics = true\n"
                    "cluster_partition_handling = pause_minority\n"
                    "auth_mechanisms.1 = PLAIN\n"
                    "auth_mechanisms.2 = AMQPLAIN\n"
                    "auth_mechanisms.3 = EXTERNAL\n"
                    "ssl_cert_login_from = common_name\n",
                },
            },
        },
        _topology_object("Vhost", "spc", {"name": "spc"}),
    ]
    for e in doc["exchanges"]:
        out.append(
            _topology_object(
                "Exchange",
                e["name"],
                {
                    "name": e["name"],
                    "vhost": "spc",
                    "type": e["type"],
                    "durable": True,
                    "autoDelete": False,
                    **({"arguments": e["arguments"]} if e["arguments"] else {}),
                },
            )
        )
    for q in doc["queues"]:
        out.append(
            _topology_object(
                "Queue",
                q["name"],
                {
                    "name": q["name"],
                    "vhost": "spc",
                    "type": q["arguments"]["x-queue-type"],
                    "durable": True,
                    "autoDelete": False,
                    "arguments": {k: v for k, v in q["arguments"].items() if k != "x-queue-type"},
                },
            )
        )
    for b in doc["bindings"]:
        out.append(
            _topology_object(
                "Binding",
                f"{b['source']}--{b['destination']}--{b['routing_key']}",
                {
                    "vhost": "spc",
                    "source": b["source"],
                    "destination": b["destination"],
                    "destinationType": "queue",
                    "routingKey": b["routing_key"],
                },
            )
        )
    for p in doc["policies"]:
        out.append(
            _topology_object(
                "Policy",
                p["name"],
                {
                    "name": p["name"],
                    "vhost": "spc",
                    "pattern": p["pattern"],
                    "applyTo": p["apply-to"],
                    "priority": p["priority"],
                    "definition": p["definition"],
                },
            )
        )
    for u in doc["users"]:
        user = _topology_object("User", u["name"], {"importCredentialsSecret": {"name": f"{u['name']}-credentials"}})
        if u["tags"]:
            user["spec"]["tags"] = u["tags"].split(",")
        out.append(user)
    for p in doc["permissions"]:
        out.append(
            _topology_object(
                "Permission",
                f"{p['user']}-spc",
                {
                    "vhost": "spc",
                    "userReference": {"name": _k8s_name(p["user"])},
                    "permissions": {"configure": p["configure"], "write": p["write"], "read": p["read"]},
                },
            )
        )
    for t in doc["topic_permissions"]:
        out.append(
            _topology_object(
                "TopicPermission",
                f"{t['user']}-{t['exchange']}",
                {
                    "vhost": "spc",
                    "userReference": {"name": _k8s_name(t["user"])},
                    "permissions": {"exchange": t["exchange"], "write": t["write"], "read": t["read"]},
                },
            )
        )
    return out


def postgres():
    return [
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Cluster",
            "metadata": _meta(f"spc-{service}-db", _labels(service, "database")),
            "spec": {
                "instances": 3,
                "storage": {"size": "5Gi"},
                "bootstrap": {"initdb": {"database": service, "owner": f"spc_{service}"}},
                # synchronous: a commit is acknowledged once one of the two standbys has it,
                # so a failover loses nothing acknowledged (tests/faults/test_database_failover.py);
                # `required`: with no standby up, writes wait rather than risk it (docs/reliability.md)
                "postgresql": {"synchronous": SYNCHRONOUS},
                "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}},
                "monitoring": {"enablePodMonitor": False},
            },
        }
        for service in SERVICE_NAMES
    ]


# ---- production: cert-manager's certificate for the broker, the Ingress for the staff's HTTP ----
ISSUER = {"name": "spc-issuer", "kind": "ClusterIssuer", "group": "cert-manager.io"}  # the operator's own
PUBLIC_DOMAIN = "spc.example.gouv.fr"  # replaced by a kustomize patch of the operator's


def production_tls():
    nodes = f"{BROKER}-nodes"  # the operator's headless service: each node by name (failover lists)
    names = [
        BROKER,
        f"{BROKER}.spc.svc",
        f"{BROKER}.spc.svc.cluster.local",
        f"*.{nodes}.spc.svc",
        f"*.{nodes}.spc.svc.cluster.local",
        f"rabbitmq.{PUBLIC_DOMAIN}",
    ]
    broker = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": _meta(BROKER_TLS),
        "spec": {
            "secretName": BROKER_TLS,
            "commonName": BROKER,
            "dnsNames": names,
            "duration": "2160h",
            "renewBefore": "720h",  # 90 days, renewed 30 days before
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            "usages": ["server auth", "digital signature", "key encipherment"],
            "issuerRef": dict(ISSUER),
        },
    }
    hosts = {service: f"{service}.{PUBLIC_DOMAIN}" for service in SERVICE_NAMES}
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": dict(
            _meta("spc"),
            annotations={
                # cert-manager makes spc-http-tls for the hosts below; the controller redirects http
                "cert-manager.io/cluster-issuer": ISSUER["name"],
                "nginx.ingress.kubernetes.io/ssl-redirect": "true",
            },
        ),
        "spec": {
            "ingressClassName": "nginx",  # ingress-nginx: the annotation above is its
            "tls": [{"hosts": list(hosts.values()), "secretName": "spc-http-tls"}],
            # each service on a host of its own: their paths overlap (/health, /services/...)
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": f"spc-{service}", "port": {"number": spec(service).port}}},
                            }
                        ]
                    },
                }
                for service, host in hosts.items()
            ],
        },
    }
    return [broker, ingress]


FILES = {
    "deploy/k8s/base/spc.yaml": base,
    "deploy/k8s/overlays/production/tls.yaml": production_tls,
    "deploy/k8s/operators/rabbitmq.yaml": rabbitmq,
    "deploy/k8s/operators/postgres.yaml": postgres,
    "deploy/k8s/components/urgent-lanes/urgent.yaml": urgent_lanes,
    "deploy/k8s/components/urgent-lanes/bulk.yaml": bulk_lanes,
}


def render(objects):
    header = "# Generated by `spc generate` from the code (spc/generate/kubernetes.py): edit that, not this file.\n"
    return header + yaml.safe_dump_all(objects(), sort_keys=False, width=110)
