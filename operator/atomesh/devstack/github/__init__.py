"""A GitHub emulator for tests and `atomesh dev`: the REST subset atomesh and PyGithub use, real
bare git repositories served over smart HTTP, real merges, signed webhooks and fault injection."""

from .app import BOT, OUTSIDER, REVIEWER, Accounts, GitHubEmulator
from .faults import Faults
from .hooks import Delivery
from .seed import SAMPLE_FILES, SAMPLE_REPO

__all__ = [
    "BOT",
    "OUTSIDER",
    "REVIEWER",
    "SAMPLE_FILES",
    "SAMPLE_REPO",
    "Accounts",
    "Delivery",
    "Faults",
    "GitHubEmulator",
]
