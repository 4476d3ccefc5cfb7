"""What the operator needs to know that is not in any resource: images, forge and model endpoints,
and the Secrets that hold their credentials. The controller fills it from flags and environment."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from atomesh.api.constants import DEFAULT_RUNNER_IMAGE


class OperatorConfig(BaseModel):
    """Operator-wide settings; pure data so planners can be tested without an environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    runner_image: str = Field(default=DEFAULT_RUNNER_IMAGE, min_length=1, description="Default runner image.")
    image_pull_policy: str = Field(default="IfNotPresent", description="imagePullPolicy of the runner containers.")
    forge_api_url: str = Field(default="https://api.github.com", min_length=1, description="Forge REST API URL.")
    forge_git_url: str = Field(default="https://github.com", min_length=1, description="Base of forge clone URLs.")
    forge_secret_name: str = Field(default="atomesh-forge", min_length=1, description="Secret with the forge token.")
    forge_secret_key: str = Field(default="token", min_length=1, description="Key of the forge token in its Secret.")
    model_base_url: str = Field(default="https://api.anthropic.com", min_length=1, description="Default model API.")
    model_secret_name: str = Field(default="atomesh-model", min_length=1, description="Secret with the model key.")
    model_secret_key: str = Field(default="api-key", min_length=1, description="Key of the model key in its Secret.")
    gateway_url: str | None = Field(
        default=None,
        description="LiteLLM proxy whose key API makes Agents' virtual keys; model_base_url when unset.",
    )
    schedule_interval_seconds: float = Field(default=10.0, gt=0, description="How often schedules are evaluated.")
    ref_poll_interval_seconds: float = Field(default=300.0, gt=0, description="How often git refs are re-resolved.")
    local_runner: bool = Field(
        default=False,
        description="Runner pods tolerate the local runner's taint and select its Node (`atomesh dev`'s kubelet).",
    )
    review_poll_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often a run awaiting review polls its pull request (webhooks are immediate).",
    )
    trigger_poll_interval_seconds: float = Field(
        default=0.0,
        ge=0,
        description=(
            "Poll GitHub's repository events API for event triggers at least this many seconds apart (GitHub's "
            "X-Poll-Interval may ask for more), for clusters GitHub's webhooks cannot reach; 0: off."
        ),
    )
    repository_hosts: tuple[str, ...] = Field(
        default=(),
        description="Hosts (host or host:port) that source.repo and workspace.repo URLs may name, besides the "
        "forge's own; a comma-separated list in the environment.",
    )

    @field_validator("repository_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(host.strip().lower() for host in value.split(",") if host.strip())
        return value

    def allowed_repository_hosts(self) -> frozenset[str]:
        """The forge's hosts and `repository_hosts`: nothing else is fetched. An entry with a port
        allows that port only; one without allows the host on any port."""
        hosts = set(self.repository_hosts)
        for url in (self.forge_git_url, self.forge_api_url):
            parts = urlsplit(url)
            if parts.hostname:
                host = parts.hostname.lower()
                hosts.add(host if parts.port is None else f"{host}:{parts.port}")
        return frozenset(hosts)
