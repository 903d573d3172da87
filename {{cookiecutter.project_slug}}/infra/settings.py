"""Read the stack config once into validated Settings; nothing else in the program calls pulumi.Config."""

import pulumi

from infra.validation import DEFAULTS, RETIRED_SETTINGS, InvalidSettings, Settings, parse_settings


def load_settings() -> Settings:
    """Settings from this stack's config; stops the program before any resource with every error found."""
    config = pulumi.Config()
    keys = [*DEFAULTS, *RETIRED_SETTINGS]  # retired keys are read only to be refused with what replaced them
    raw: dict[str, object] = {key: value for key in keys if (value := config.get(key)) is not None}
    raw["aws_region"] = pulumi.Config("aws").get("region") or DEFAULTS["aws_region"]
    try:
        if pulumi.runtime.is_config_secret(f"{pulumi.get_project()}:environment"):
            # Set with --secret: the value would be plain text in the task definition, for anyone to describe.
            raise InvalidSettings(
                [
                    "environment holds a secret (set with --secret): its values are plain text in the task definition; "
                    "put the variable in secrets instead (an SSM parameter or Secrets Manager secret)"
                ]
            )
        return parse_settings(raw)
    except InvalidSettings as invalid:
        lines = "\n".join(f"  {error}" for error in invalid.errors)
        raise pulumi.RunError(f"invalid stack config (fix with `pulumi config set <key> <value>`):\n{lines}") from None
