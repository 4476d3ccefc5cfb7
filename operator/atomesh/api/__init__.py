"""API types of atomesh.io/v1alpha1: the single source of the CRD schemas."""

from atomesh.api.agent import Agent, AgentSpec, AgentStatus
from atomesh.api.agentrun import AgentRun, AgentRunSpec, AgentRunStatus
from atomesh.api.common import Condition, ObjectMeta, dump, parse_duration
from atomesh.api.mesh import Mesh, MeshSpec, MeshStatus
from atomesh.api.runfile import PublishSummary, RunFile

__all__ = [
    "Agent",
    "AgentRun",
    "AgentRunSpec",
    "AgentRunStatus",
    "AgentSpec",
    "AgentStatus",
    "Condition",
    "Mesh",
    "MeshSpec",
    "MeshStatus",
    "ObjectMeta",
    "PublishSummary",
    "RunFile",
    "dump",
    "parse_duration",
]
