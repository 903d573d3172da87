"""The ECS cluster the service runs in, with both Fargate capacity providers, and how tasks are split between them."""

import pulumi
import pulumi_aws as aws

from infra.validation import Settings


def capacity_provider_strategy(settings: Settings) -> list[aws.ecs.ServiceCapacityProviderStrategyArgsDict]:
    """Where the tasks run: `fargate_on_demand_base` tasks on regular Fargate first, the rest split by weight
    between regular Fargate and Fargate Spot (only one provider may have a base, and Spot never falls back to
    on-demand, so the base sits on FARGATE).

    FARGATE keeps a weight of at least 1, even at 100 % Spot: the API reference says a provider with weight 0 cannot
    place tasks, and does not say whether its base is still placed; 1 against 100 keeps the base certain and puts at
    most about one task in 101 above it on regular Fargate.
    """
    spot = settings.fargate_spot_percent
    strategy: list[aws.ecs.ServiceCapacityProviderStrategyArgsDict] = [
        {"capacity_provider": "FARGATE", "base": settings.fargate_on_demand_base, "weight": max(1, 100 - spot)}
    ]
    if spot:
        strategy.append({"capacity_provider": "FARGATE_SPOT", "weight": spot})
    return strategy


class ServiceCluster:
    """The cluster (Container Insights on) and its capacity providers, created under `opts.parent`.

    A plain class, not a component: its resources stay children of the FargateService, so their URNs are those
    every stack deployed before the split already has (docs/design-decisions.md, "FargateService in pieces").
    """

    def __init__(self, name: str, opts: pulumi.ResourceOptions) -> None:
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster", settings=[{"name": "containerInsights", "value": "enabled"}], opts=opts
        )
        # Both Fargate capacity providers, so fargate_spot_percent can change without touching the cluster.
        self.capacity_providers = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            cluster_name=self.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            opts=opts,
        )
