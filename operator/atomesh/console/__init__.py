"""The web console: a local server of the supervision views over a watch-fed cache of the cluster."""
