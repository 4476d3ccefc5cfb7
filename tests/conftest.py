"""Shared fixtures. Each emulator has a fixture module under tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.kube",
    "tests.fixtures.github",
    "tests.fixtures.anthropic",
    "tests.fixtures.browser",
    "tests.contract.plugin",
    "tests.contract.anthropic_plugin",
]
