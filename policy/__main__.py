"""geostack's policy pack. Rules live in rules.py, where they are unit-tested directly."""
from pulumi_policy import EnforcementLevel, PolicyConfigSchema, PolicyPack, ResourceValidationPolicy

import rules

PolicyPack(
    name="geostack",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="pinned-images",
            description="Container images carry a tag other than latest, or a digest.",
            validate=rules.pinned_images,
        ),
        ResourceValidationPolicy(
            name="no-privilege",
            description="No privileged container, and no privilege escalation.",
            validate=rules.no_privilege,
        ),
        ResourceValidationPolicy(
            name="limits-present",
            description="Every Kubernetes container has CPU and memory limits.",
            validate=rules.limits_present,
        ),
        ResourceValidationPolicy(
            name="no-plaintext-secrets",
            description="No credential as plain data in a ConfigMap or as a plain env value.",
            validate=rules.no_plaintext_secrets,
        ),
        ResourceValidationPolicy(
            name="stateful-volumes-protected",
            description="Volumes of a production stack are protected from `pulumi destroy`.",
            validate=rules.stateful_volumes_protected,
            config_schema=PolicyConfigSchema(properties={"production": {"type": "boolean"}}),
        ),
    ],
)
