"""Starting repositories of the agents' test cases: their own tests are the agents' checks, not ours."""

collect_ignore_glob = ["*/**"]
