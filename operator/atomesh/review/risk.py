"""Risky paths: changes a reviewer should look at twice, whatever the artifact type.

CI workflows run with repository secrets, lockfiles pull in code nobody reads, infrastructure
manifests change production, and a file that looks like a secret should not be committed at all.
"""

from __future__ import annotations

import re
from fnmatch import translate

from atomesh.review.markdown import SECRET_CONTENT
from atomesh.review.surface import ChangedFile

# (reason, patterns matched against the whole path and the file name, case-insensitive)
_PATH_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("CI workflow", (".github/workflows/*", ".gitlab-ci.yml", ".circleci/*", "jenkinsfile", ".buildkite/*")),
    (
        "lockfile",
        (
            "package-lock.json",
            "yarn.lock",
            "pnpm-lock.yaml",
            "poetry.lock",
            "pipfile.lock",
            "uv.lock",
            "cargo.lock",
            "go.sum",
            "gemfile.lock",
            "composer.lock",
            "*.lock",
        ),
    ),
    (
        "infrastructure",
        (
            "dockerfile",
            "dockerfile.*",
            "*.dockerfile",
            "docker-compose*.yml",
            "docker-compose*.yaml",
            "*.tf",
            "*.tfvars",
            "terraform/*",
            "infra/*",
            "charts/*",
            "helm/*",
            "chart.yaml",
            "k8s/*",
            "kubernetes/*",
            "manifests/*",
            "deploy/*",
            "kustomization.yaml",
        ),
    ),
    (
        "looks like a secret",
        (
            ".env",
            ".env.*",
            "*.pem",
            "*.key",
            "*.p12",
            "*.pfx",
            "id_rsa",
            "id_rsa*",
            "id_ed25519*",
            "id_ecdsa*",
            "credentials*",
            "*.kubeconfig",
            "kubeconfig",
            ".npmrc",
            ".pypirc",
            ".netrc",
        ),
    ),
)


def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """One regex for file names and whole paths, one for folders (`dir/*` anywhere in the path)."""
    globs = [pattern for pattern in patterns if not pattern.endswith("/*")]
    folders = [re.escape(pattern[:-2]) for pattern in patterns if pattern.endswith("/*")]
    by_name = re.compile("|".join(f"(?:{translate(glob)})" for glob in globs) or "(?!)")
    by_folder = re.compile(rf"(?:^|/)(?:{'|'.join(folders)})/" if folders else "(?!)")
    return by_name, by_folder


_COMPILED = tuple((reason, *_compile(patterns)) for reason, patterns in _PATH_RULES)


def path_risks(path: str) -> tuple[str, ...]:
    """Reasons a path is risky, in rule order, without duplicates (matching is case-insensitive)."""
    lowered = path.lower()
    name = lowered.rsplit("/", 1)[-1]
    return tuple(
        reason
        for reason, by_name, by_folder in _COMPILED
        if by_name.match(name) or by_name.match(lowered) or by_folder.search(lowered)
    )


def file_risks(changed: ChangedFile) -> tuple[str, ...]:
    """Reasons a changed file is risky: by its path (old and new) and by secrets in its new content."""
    reasons = list(path_risks(changed.path))
    if changed.previous_path:
        reasons.extend(reason for reason in path_risks(changed.previous_path) if reason not in reasons)
    if changed.after:
        reasons.extend(reason for reason, pattern in SECRET_CONTENT if pattern.search(changed.after))
    return tuple(reasons)


def risky_files(files: tuple[ChangedFile, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """(path, reasons) of every risky file, sorted by path."""
    found = [(changed.path, file_risks(changed)) for changed in files]
    return sorted((path, reasons) for path, reasons in found if reasons)
