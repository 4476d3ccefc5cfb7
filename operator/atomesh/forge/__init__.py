"""The forge port: git (GitPython) and GitHub (PyGithub) adapters behind `protocol.Forge`, a fake,
and the port's own errors (`errors.ForgeError`); nothing above this package sees a library exception."""
