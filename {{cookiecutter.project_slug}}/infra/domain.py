"""The custom domain: its Route53 zone, a DNS-validated ACM certificate and the alias records for the ALB."""

import pulumi
import pulumi_aws as aws

VALIDATION_RECORD_TTL = 60


def hosted_zone_id(zone_name: str) -> pulumi.Output[str]:
    """The id of the public Route53 zone `zone_name` (it must exist already)."""
    return aws.route53.get_zone_output(name=zone_name, private_zone=False).zone_id


class IssuedCertificate(pulumi.ComponentResource):
    """An ACM certificate for `domain`, validated through a DNS record in the zone; `arn` is usable once validated."""

    def __init__(
        self, name: str, domain: str, zone_id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fargate:domain:IssuedCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.certificate = aws.acm.Certificate(f"{name}-cert", domain_name=domain, validation_method="DNS", opts=child)
        # One domain name, so exactly one validation record.
        option = self.certificate.domain_validation_options[0]
        self.validation_record = aws.route53.Record(
            f"{name}-cert-validation",
            zone_id=zone_id,
            name=option.resource_record_name.apply(lambda value: value or ""),
            type=option.resource_record_type.apply(lambda value: value or ""),
            records=[option.resource_record_value.apply(lambda value: value or "")],
            ttl=VALIDATION_RECORD_TTL,
            allow_overwrite=True,
            opts=child,
        )
        self.validation = aws.acm.CertificateValidation(
            f"{name}-cert",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[self.validation_record.fqdn],
            opts=child,
        )
        self.arn = self.validation.certificate_arn
        self.register_outputs({"arn": self.arn})


class DomainAlias(pulumi.ComponentResource):
    """`domain` -> the load balancer, as a Route53 alias that follows the ALB's own health."""

    def __init__(
        self,
        name: str,
        domain: str,
        zone_id: pulumi.Input[str],
        alb: aws.lb.LoadBalancer,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:domain:DomainAlias", name, None, opts)
        target: aws.route53.RecordAliasArgsDict = {
            "name": alb.dns_name,
            "zone_id": alb.zone_id,
            "evaluate_target_health": True,
        }
        # An AAAA alias would join it if the ALB were dualstack; this stack's ALB is IPv4 only.
        self.record = aws.route53.Record(
            f"{name}-alias-a",
            zone_id=zone_id,
            name=domain,
            type="A",
            aliases=[target],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"fqdn": self.record.fqdn})
