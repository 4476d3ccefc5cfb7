"""The development stack: emulators of the Kubernetes API (with a local kubelet), GitHub and the
Anthropic Messages API, spoken to over real HTTP on loopback by the real clients. Held to the real
services' rules and messages; what they cannot match they refuse, naming what is not emulated."""
