"""atomesh: a Kubernetes operator that treats AI agents as versioned infrastructure."""

__version__ = "0.1.0"
