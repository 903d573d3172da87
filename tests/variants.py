"""The variant matrix: the defaults, each option alone, and the combinations that interact (not the product).

Ids read `key:value`; the tests and bench/matrix.py both take their variants from here.
"""

# An existing VPC the generated project's mocks know (its tests/landing_zone.py: ANSWERS).
EXISTING_VPC = {
    "vpc_id": "vpc-0c0ffee0000000001",
    "public_subnet_ids": "subnet-0c0ffee00000000a1,subnet-0c0ffee00000000b1",
    "private_subnet_ids": "subnet-0c0ffee00000000a3,subnet-0c0ffee00000000b3",
}
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0b5e3c9a-1111-2222-3333-444455556666"

VARIANTS: dict[str, dict[str, object]] = {
    "defaults": {},
    # HTTPS x domain x certificate
    "domain_name:api.example.com": {"domain_name": "api.example.com"},
    "enable_https:true": {"enable_https": True, "domain_name": "api.example.com"},
    "enable_https:true,certificate_arn": {
        "enable_https": True,
        "domain_name": "api.example.com",
        "certificate_arn": CERTIFICATE_ARN,
    },
    "enable_https:true,hosted_zone_name:apex": {
        "enable_https": True,
        "domain_name": "example.com",
        "hosted_zone_name": "example.com",
    },
    # autoscaling x request policy
    "enable_autoscaling:true": {"enable_autoscaling": True},
    "enable_autoscaling:true,requests_per_target:1000": {
        "enable_autoscaling": True,
        "autoscaling_requests_per_target": 1000,
    },
    "enable_sticky_sessions:true": {"enable_sticky_sessions": True, "sticky_duration_seconds": 3600},
    # ARM64 x sizes
    "cpu_architecture:ARM64": {"cpu_architecture": "ARM64"},
    "cpu_architecture:ARM64,cpu:16384,memory:122880": {"cpu_architecture": "ARM64", "cpu": "16384", "memory": "122880"},
    "cpu:8192,memory:61440": {"cpu": "8192", "memory": "61440"},
    # networking x zones
    "networking:private-single-nat": {"networking": "private-single-nat"},
    "networking:public-subnets": {"networking": "public-subnets"},
    "networking:private-endpoints": {"networking": "private-endpoints"},
    # Fargate Spot above the on-demand base (with ARM64 and autoscaling in everything-on)
    "fargate_spot_percent:100": {"fargate_spot_percent": 100},
    "az_count:3": {"az_count": 3},
    # deployment strategies x HTTPS (the weighted rule moves to the HTTPS listener)
    "deployment_strategy:blue-green": {"deployment_strategy": "blue-green"},
    "deployment_strategy:canary": {"deployment_strategy": "canary"},
    "deployment_strategy:linear": {"deployment_strategy": "linear"},
    "deployment_strategy:canary,enable_https:true": {
        "deployment_strategy": "canary",
        "enable_https": True,
        "domain_name": "api.example.com",
    },
    "enable_waf:true": {"enable_waf": True},
    # an existing VPC (issue 21): rolling, and a non-rolling strategy with HTTPS (two target groups, port 443)
    "vpc_id:existing": EXISTING_VPC,
    "vpc_id:existing,deployment_strategy:blue-green,enable_https:true": {
        **EXISTING_VPC,
        "deployment_strategy": "blue-green",
        "enable_https": True,
        "domain_name": "api.example.com",
    },
    "everything-on": {
        "project_name": "Payments API",
        "aws_region": "eu-west-1",
        "stack_name": "prod",
        "replicas": 4,
        "cpu": "1024",
        "memory": "4096",
        "cpu_architecture": "ARM64",
        "container_port": 9000,
        "health_check_path": "/healthz",
        "networking": "private-endpoints",
        "az_count": 3,
        "log_retention_days": 90,
        "enable_https": True,
        "domain_name": "payments.example.com",
        "enable_autoscaling": True,
        "autoscaling_min": 3,
        "autoscaling_max": 20,
        "autoscaling_cpu_target": 50,
        "autoscaling_requests_per_target": 800,
        "fargate_spot_percent": 60,
        "enable_sticky_sessions": True,
        "sticky_duration_seconds": 600,
        "deployment_strategy": "linear",
        "enable_waf": True,
    },
}
