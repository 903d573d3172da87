"""Read the stack config once into validated Settings; nothing else in the program calls pulumi.Config."""

import pulumi
from pulumi.runtime import config as runtime_config

from infra.validation import InvalidSettings, Settings, stack_settings


def stack_config() -> dict[str, object]:
    """The stack's whole config, `namespace:key` -> value. pulumi.Config reads one key at a time and cannot list
    them; the Python language host hands the program all of them as JSON in PULUMI_CONFIG, and unit tests set them
    with pulumi.runtime.set_all_config (which Config.get reads first)."""
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def load_settings() -> Settings:
    """Settings from this stack's config; stops the program before any resource with every error found."""
    try:
        if pulumi.runtime.is_config_secret(f"{pulumi.get_project()}:environment"):
            # Set with --secret: the value would be plain text in the task definition, for anyone to describe.
            raise InvalidSettings(
                [
                    "environment holds a secret (set with --secret): its values are plain text in the task definition; "
                    "put the variable in secrets instead (an SSM parameter or Secrets Manager secret)"
                ]
            )
        return stack_settings(pulumi.get_project(), stack_config())
    except InvalidSettings as invalid:
        lines = "\n".join(f"  {error}" for error in invalid.errors)
        raise pulumi.RunError(f"invalid stack config (fix with `pulumi config set <key> <value>`):\n{lines}") from None
