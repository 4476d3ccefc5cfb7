"""The runner pod's steps, each a process of its own container: `checkout` (forge read credentials
only), `agent` (model credentials only) and `publish` (forge credentials only). A step that fails
exits 1 with `<Reason>: <message>` as its termination message, the reason from `atomesh.api.conditions`."""
