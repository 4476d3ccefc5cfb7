"""An Anthropic Messages API emulator driven by a cassette, for tests and `atomesh dev`."""

from atomesh.devstack.anthropic.app import RecordedRequest, build_app
from atomesh.devstack.anthropic.cassette import Cassette, Turn, load_cassette
from atomesh.devstack.anthropic.server import AnthropicEmulator

__all__ = ["AnthropicEmulator", "Cassette", "RecordedRequest", "Turn", "build_app", "load_cassette"]
