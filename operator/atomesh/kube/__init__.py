"""The Kubernetes port: the only code that talks to the Kubernetes API (`client.Kube` and its REST
adapter), with the resources atomesh uses and a fake for tests of the layers above."""
